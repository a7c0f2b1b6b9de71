package profile

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// Compose returns the Application vcp deploys: app with the environments merged onto its
// spec in order (see MergeOverlay), then the rules of prof applied (prof may be nil).
//
// A conflict between an environment and what app and the earlier environments set is an
// error naming the environment and every conflicting field. So is a value of an
// immutable rule set otherwise, naming the field, the profile, the rule and the file
// that set it. The inputs are not modified. The result is decoded strictly but not
// validated: render.Render validates what it renders.
func Compose(app *model.Application, prof *model.Profile, envs ...*model.Environment) (*model.Application, error) {
	spec, err := specTree(&app.Spec)
	if err != nil {
		return nil, err
	}
	sources := []source{{name: fmt.Sprintf("Application %q", app.Metadata.Name), spec: deepCopy(spec).(map[string]any)}}
	for _, env := range envs {
		if err := env.Validate(); err != nil {
			return nil, err
		}
		merged, errs := MergeOverlay(spec, env.Spec)
		if len(errs) > 0 {
			return nil, model.NewFieldErrors(model.KindEnvironment, env.Metadata.Name,
				fmt.Sprintf("conflicts with Application %q", app.Metadata.Name), errs)
		}
		spec = merged
		stripped, _ := model.StripOverrideMarkers(env.Spec).(map[string]any)
		sources = append(sources, source{name: fmt.Sprintf("Environment %q", env.Metadata.Name), spec: stripped})
	}
	if prof != nil {
		if err := prof.Validate(); err != nil {
			return nil, err
		}
		if errs := applyProfile(spec, prof, sources); len(errs) > 0 {
			return nil, model.NewFieldErrors(model.KindApplication, app.Metadata.Name,
				fmt.Sprintf("violates Profile %q", prof.Metadata.Name), errs)
		}
	}
	return fromSpecTree(app, spec)
}

// specTree returns spec in JSON form.
func specTree(spec *model.ApplicationSpec) (map[string]any, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &tree); err != nil {
		return nil, err
	}
	return tree, nil
}

// fromSpecTree returns a copy of app with the spec decoded from tree.
func fromSpecTree(app *model.Application, tree map[string]any) (*model.Application, error) {
	data, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	out := &model.Application{TypeMeta: app.TypeMeta, Metadata: app.Metadata}
	errs := model.DecodeStrict(data, &out.Spec, field.NewPath("spec"))
	if err := model.NewFieldErrors(model.KindApplication, app.Metadata.Name,
		"is invalid once its environments and profile are applied", errs); err != nil {
		return nil, err
	}
	return out, nil
}

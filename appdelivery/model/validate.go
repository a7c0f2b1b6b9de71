package model

import (
	"slices"
	"strings"
	"time"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DecodedComponent is a component with its properties and traits decoded into their Go
// types.
type DecodedComponent struct {
	*Component
	// Properties is *ServiceProperties for a service, *WorkerProperties for a worker, ...
	Properties any
	// Traits holds each trait's properties (*ScaleProperties for scale, ...) by type.
	Traits map[TraitType]any
}

// Workload returns the component's Workload, or nil for a manifests component.
func (d *DecodedComponent) Workload() *Workload {
	if w, ok := d.Properties.(WorkloadProperties); ok {
		return w.WorkloadSpec()
	}
	return nil
}

// Validate checks every value of the Application and returns a *FieldErrors listing all
// problems, or nil.
func (a *Application) Validate() error {
	_, err := a.Decode()
	return err
}

// Decode validates the Application and returns its components, in order, with their
// properties and traits decoded. The error is a *FieldErrors listing every problem.
func (a *Application) Decode() ([]DecodedComponent, error) {
	errs := validateTypeMeta(a.TypeMeta, KindApplication)
	errs = append(errs, validateDNSLabel(field.NewPath("metadata", "name"), a.Metadata.Name)...)
	spec := field.NewPath("spec")
	if a.Spec.Namespace != "" {
		errs = append(errs, validateDNSLabel(spec.Child("namespace"), a.Spec.Namespace)...)
	}
	decoded, compErrs := decodeComponents(spec.Child("components"), a.Spec.Components)
	errs = append(errs, compErrs...)
	errs = append(errs, validateTargets(spec.Child("targets"), a.Spec.Targets)...)
	errs = append(errs, validateRollout(spec.Child("rollout"), a.Spec.Rollout, a.Spec.Targets)...)
	if err := NewFieldErrors(KindApplication, a.Metadata.Name, "is invalid", errs); err != nil {
		return nil, err
	}
	return decoded, nil
}

func decodeComponents(path *field.Path, comps []Component) ([]DecodedComponent, field.ErrorList) {
	if len(comps) == 0 {
		return nil, field.ErrorList{field.Required(path, "an application has at least one component")}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	decoded := make([]DecodedComponent, 0, len(comps))
	for i := range comps {
		c := &comps[i]
		p := path.Index(i)
		if names.Has(c.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		}
		names.Insert(c.Name)
		d, cerrs := decodeComponent(p, c)
		errs = append(errs, cerrs...)
		decoded = append(decoded, d)
	}
	for i := range comps {
		errs = append(errs, validateDependsOn(path.Index(i).Child("dependsOn"), &comps[i], names)...)
	}
	errs = append(errs, validateAcyclic(path, comps)...)
	return decoded, errs
}

// decodeComponent decodes and validates one component: name, properties, traits.
func decodeComponent(path *field.Path, c *Component) (DecodedComponent, field.ErrorList) {
	d := DecodedComponent{Component: c, Traits: map[TraitType]any{}}
	errs := validateComponentName(path.Child("name"), c)
	info, ok := componentTypes[c.Type]
	if !ok {
		errs = append(errs, field.NotSupported(path.Child("type"), c.Type, ComponentTypes()))
		return d, errs
	}
	d.Properties = info.newProperties()
	propErrs := decodeProperties(path.Child("properties"), c.Properties, d.Properties)
	errs = append(errs, propErrs...)
	errs = append(errs, decodeTraits(path.Child("traits"), c, d.Traits)...)
	if len(propErrs) == 0 {
		// Traits refer to properties (ports, for one): without them, checks would only
		// repeat the properties' errors. Traits that did not decode are skipped.
		errs = append(errs, validateComponent(path, &d)...)
	}
	return d, errs
}

func validateComponentName(path *field.Path, c *Component) field.ErrorList {
	errs := validateDNSLabel(path, c.Name)
	if info, ok := componentTypes[c.Type]; ok && len(errs) == 0 {
		if len(c.Name) > info.maxNameLength {
			errs = append(errs, field.TooLong(path, c.Name, info.maxNameLength))
		}
		if info.rendersService {
			for _, msg := range validation.IsDNS1035Label(c.Name) {
				errs = append(errs, field.Invalid(path, c.Name, "names a Service, so: "+msg))
			}
		}
	}
	return errs
}

// decodeProperties decodes raw (empty means {}) strictly into v.
func decodeProperties(path *field.Path, raw []byte, v any) field.ErrorList {
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	return DecodeStrict(raw, v, path)
}

func decodeTraits(path *field.Path, c *Component, out map[TraitType]any) field.ErrorList {
	var errs field.ErrorList
	for i, t := range c.Traits {
		p := path.Index(i)
		info, ok := traitTypes[t.Type]
		switch {
		case !ok:
			errs = append(errs, field.NotSupported(p.Child("type"), t.Type, TraitTypes()))
			continue
		case out[t.Type] != nil:
			errs = append(errs, field.Duplicate(p.Child("type"), t.Type))
			continue
		case !t.Type.AllowedOn(c.Type):
			errs = append(errs, field.Invalid(p.Child("type"), t.Type,
				"not allowed on a "+string(c.Type)+" component (allowed on: "+joinTypes(info.on)+")"))
			continue
		}
		props := info.newProperties()
		if perrs := decodeProperties(p.Child("properties"), t.Properties, props); len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		out[t.Type] = props
	}
	for i, t := range c.Traits {
		for _, other := range traitTypes[t.Type].conflicts {
			if out[other] != nil && t.Type < other {
				errs = append(errs, field.Invalid(path.Index(i).Child("type"), t.Type,
					"may not be combined with the "+string(other)+" trait"))
			}
		}
	}
	return errs
}

func joinTypes(ts []ComponentType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func validateDependsOn(path *field.Path, c *Component, names sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, dep := range c.DependsOn {
		p := path.Index(i)
		switch {
		case dep == c.Name:
			errs = append(errs, field.Invalid(p, dep, "a component cannot depend on itself"))
		case seen.Has(dep):
			errs = append(errs, field.Duplicate(p, dep))
		case !names.Has(dep):
			errs = append(errs, field.NotFound(p, dep))
		}
		seen.Insert(dep)
	}
	return errs
}

// validateAcyclic reports each dependency cycle once, at the first component of the
// cycle in spec order, naming the components on it: "a -> b -> a".
func validateAcyclic(path *field.Path, comps []Component) field.ErrorList {
	index := map[string]int{}
	for i, c := range comps {
		if _, dup := index[c.Name]; !dup {
			index[c.Name] = i
		}
	}
	const (
		unvisited = iota
		inProgress
		done
	)
	state := make([]int, len(comps))
	var stack []int
	var errs field.ErrorList
	var visit func(i int)
	visit = func(i int) {
		state[i] = inProgress
		stack = append(stack, i)
		for _, dep := range comps[i].DependsOn {
			j, ok := index[dep]
			switch {
			case !ok || j == i:
				// Reported by validateDependsOn.
			case state[j] == inProgress:
				errs = append(errs, cycleError(path, comps, stack[slices.Index(stack, j):]))
			case state[j] == unvisited:
				visit(j)
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	for i := range comps {
		if state[i] == unvisited {
			visit(i)
		}
	}
	return errs
}

func cycleError(path *field.Path, comps []Component, cycle []int) *field.Error {
	names := make([]string, 0, len(cycle)+1)
	first := cycle[0]
	for _, i := range cycle {
		names = append(names, comps[i].Name)
		first = min(first, i)
	}
	names = append(names, comps[cycle[0]].Name)
	return field.Invalid(path.Index(first).Child("dependsOn"), comps[first].DependsOn,
		"dependency cycle: "+strings.Join(names, " -> "))
}

func validateTargets(path *field.Path, targets []Target) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, t := range targets {
		p := path.Index(i)
		errs = append(errs, validateDNSLabel(p.Child("name"), t.Name)...)
		if names.Has(t.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), t.Name))
		}
		names.Insert(t.Name)
		switch {
		case t.Context == "" && t.VirtualCluster == nil:
			errs = append(errs, field.Required(p, "set context or virtualCluster"))
		case t.Context != "" && t.VirtualCluster != nil:
			errs = append(errs, field.Forbidden(p.Child("virtualCluster"), "may not be set together with context"))
		case t.VirtualCluster != nil:
			errs = append(errs, validateVirtualClusterSelector(p.Child("virtualCluster"), t.VirtualCluster)...)
		}
		errs = append(errs, validateOverlay(p.Child("overrides"), t.Overrides)...)
	}
	return errs
}

func validateVirtualClusterSelector(path *field.Path, s *VirtualClusterSelector) field.ErrorList {
	var errs field.ErrorList
	if s.Namespace != "" {
		errs = append(errs, validateDNSLabel(path.Child("namespace"), s.Namespace)...)
	}
	switch {
	case s.Name == "" && s.Selector == nil:
		errs = append(errs, field.Required(path, "set name or selector"))
	case s.Name != "" && s.Selector != nil:
		errs = append(errs, field.Forbidden(path.Child("selector"), "may not be set together with name"))
	case s.Name != "":
		errs = append(errs, validateDNSLabel(path.Child("name"), s.Name)...)
	default:
		errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector,
			metav1validation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
	}
	return errs
}

func validateRollout(path *field.Path, r *Rollout, targets []Target) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if r.Parallelism < 0 {
		errs = append(errs, field.Invalid(path.Child("parallelism"), r.Parallelism, "must be at least 1 (0 means 1)"))
	}
	if r.ProgressDeadline != "" {
		if d, err := time.ParseDuration(r.ProgressDeadline); err != nil {
			errs = append(errs, field.Invalid(path.Child("progressDeadline"), r.ProgressDeadline, `must be a duration such as "90s" or "10m"`))
		} else if d <= 0 {
			errs = append(errs, field.Invalid(path.Child("progressDeadline"), r.ProgressDeadline, "must be positive"))
		}
	}
	known := sets.New[string]()
	for _, t := range targets {
		known.Insert(t.Name)
	}
	stageNames, staged := sets.New[string](), map[string]string{}
	for i, s := range r.Stages {
		p := path.Child("stages").Index(i)
		errs = append(errs, validateDNSLabel(p.Child("name"), s.Name)...)
		if stageNames.Has(s.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), s.Name))
		}
		stageNames.Insert(s.Name)
		if len(s.Targets) == 0 {
			errs = append(errs, field.Required(p.Child("targets"), "a stage names at least one target"))
		}
		for j, t := range s.Targets {
			tp := p.Child("targets").Index(j)
			switch prev, dup := staged[t]; {
			case !known.Has(t):
				errs = append(errs, field.NotFound(tp, t))
			case dup:
				errs = append(errs, field.Invalid(tp, t, "already in stage "+prev))
			}
			staged[t] = s.Name
		}
	}
	return errs
}

func validateDNSLabel(path *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

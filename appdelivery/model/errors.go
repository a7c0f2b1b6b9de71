package model

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FieldErrors is every problem found in a document, each naming its field. Its message
// is a summary line followed by one problem per line, in the order they were found.
type FieldErrors struct {
	// Summary says what was checked, e.g. `Application "shop" is invalid`.
	Summary string
	Errors  field.ErrorList
}

// Error implements error.
func (e *FieldErrors) Error() string {
	var b strings.Builder
	b.WriteString(e.Summary)
	b.WriteString(":")
	for _, fe := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// NewFieldErrors returns nil when errs is empty, else a *FieldErrors with the summary
// "<kind> "<name>" <verb>", e.g. `Application "shop" is invalid`.
func NewFieldErrors(kind, name, verb string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return &FieldErrors{Summary: fmt.Sprintf("%s %q %s", kind, name, verb), Errors: errs}
}

// Package model is the wire format of vcp's application delivery (group apps.vcp.dev,
// version v1alpha1): the Application an application team writes (components with
// traits), the Profile a platform team writes (per-field defaults and rules) and the
// Environment overlays that adapt an Application to dev, staging or prod.
//
// The kinds are files, not API objects: vcapp reads them from disk, composes them
// (package profile), and renders the result into Kubernetes objects (package render).
// Later phases deploy those objects to one cluster or a fleet of tenant clusters, using
// spec.targets and spec.rollout, which this package already parses and validates.
//
// Decoding is strict: unknown and duplicate fields are errors naming the field path.
// A component's and a trait's properties stay raw JSON in the Application and are
// decoded into the Go type of their type (ServiceProperties, ScaleProperties, ...) by
// Application.Decode, which also validates every value and reports all problems at once.
package model

// Package profile composes the Application vcp deploys from three kinds of files: the
// application team's Application, its Environment overlays (envs/prod.yaml, ...), and
// the platform team's Profile.
//
// Overlays are merged onto the Application's spec first, in order; a value an overlay
// sets differently from the Application is a conflict unless the overlay's key carries
// the override marker ("replicas!: 5"). The Profile's rules are applied last, to the
// merged result, so that a profile default never reads as a conflict to an overlay and
// an immutable rule holds for what is deployed, whichever file set the value.
//
// Everything works on the JSON form of the spec (maps, lists and scalars), so one merge
// serves every component and trait type; lists of traits are merged by trait type and
// other lists of objects with a name by name (model.ListKey). The result is decoded back
// into a model.Application, strictly, and validated by the caller (render.Render does).
package profile

package model

// The names rendered objects and volumes get. They are part of the format: sidecars
// mount volumes by name, and other tools find objects by name.

// Common labels on every rendered object and pod.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy, and the server-side-apply field manager.
	ManagedBy = "vcapp"
)

// ReservedLabels are the labels vcapp sets; the labels trait cannot change them.
var ReservedLabels = []string{LabelName, LabelInstance, LabelComponent, LabelManagedBy}

// volumeNamePrefixLength is the length of the longest prefix a volume name gets.
const volumeNamePrefixLength = len("config-")

// ConfigVolumeName is the name of the pod volume of the config trait's mount.
func ConfigVolumeName(mount string) string { return "config-" + mount }

// SecretVolumeName is the name of the pod volume of the secretRef trait's Secret.
func SecretVolumeName(secret string) string { return "secret-" + secret }

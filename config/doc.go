// Package config holds the configuration of fedstate's components: one
// struct per component, with documented defaults (a Default function whose
// numbers each say why) and a Validate method that reports every bad field
// at once. The structs carry json and yaml tags so that they can be embedded
// in a component's configuration file; durations are written as Go duration
// strings ("10s").
//
// The folder also holds the Kubernetes manifests: the generated
// CustomResourceDefinitions under crd/bases.
package config

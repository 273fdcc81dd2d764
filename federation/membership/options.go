package membership

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults for the zero fields of Options.
const (
	// DefaultCallTimeout bounds one API call (or one read-modify-write of
	// one object). A healthy API server answers in milliseconds; 30 s
	// leaves room for a member on the far side of an ocean under load.
	DefaultCallTimeout = 30 * time.Second
	// DefaultReadyTimeout bounds the waits for the member's token
	// controller to fill in the token and for the new RBAC binding to reach
	// the member's authorizer cache. Both take well under a second on a
	// healthy control plane; a minute covers a busy controller-manager.
	DefaultReadyTimeout = time.Minute
)

// Options say which cluster joins, where it runs, and how long Join may
// wait.
type Options struct {
	// Name of the MemberCluster: a DNS label (lower-case letters, digits
	// and '-', at most 63 characters). The hub Secret is <Name>-kubeconfig.
	Name string
	// Region the member runs in, for example "eu-west": required, a valid
	// label value. It becomes spec.region and the label
	// topology.kubernetes.io/region of the MemberCluster.
	Region string
	// Zone within the region, for example "eu-west-a": optional, a valid
	// label value. It becomes spec.zone and the label
	// topology.kubernetes.io/zone.
	Zone string
	// CallTimeout bounds every API call; zero means DefaultCallTimeout.
	CallTimeout time.Duration
	// ReadyTimeout bounds the waits for the token and for the RBAC binding
	// to take effect; zero means DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// FieldError is one bad field of Options. Field is "name", "region", "zone",
// "callTimeout" or "readyTimeout".
type FieldError struct {
	// Field is the Options field, in lower camel case.
	Field string
	// Value is the rejected value.
	Value string
	// Reason says what is wrong with it.
	Reason string
}

// Error names the field, the value and the reason.
func (e FieldError) Error() string { return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason) }

// InvalidOptionsError lists every bad field of Options at once.
type InvalidOptionsError struct {
	// Fields are the bad fields, in the order of Options.
	Fields []FieldError
}

// Error lists the bad fields.
func (e *InvalidOptionsError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Error()
	}
	return "membership: invalid options: " + strings.Join(msgs, "; ")
}

// Validate reports every bad field at once as an *InvalidOptionsError.
func (o Options) Validate() error {
	var bad []FieldError
	if errs := validation.IsDNS1123Label(o.Name); len(errs) > 0 {
		bad = append(bad, FieldError{Field: "name", Value: o.Name, Reason: "must be a DNS label: " + strings.Join(errs, "; ")})
	}
	if o.Region == "" {
		bad = append(bad, FieldError{Field: "region", Value: o.Region, Reason: "must be set"})
	} else if errs := validation.IsValidLabelValue(o.Region); len(errs) > 0 {
		bad = append(bad, FieldError{Field: "region", Value: o.Region, Reason: "must be a label value: " + strings.Join(errs, "; ")})
	}
	if errs := validation.IsValidLabelValue(o.Zone); len(errs) > 0 {
		bad = append(bad, FieldError{Field: "zone", Value: o.Zone, Reason: "must be a label value: " + strings.Join(errs, "; ")})
	}
	if o.CallTimeout < 0 {
		bad = append(bad, FieldError{Field: "callTimeout", Value: o.CallTimeout.String(), Reason: "must not be negative"})
	}
	if o.ReadyTimeout < 0 {
		bad = append(bad, FieldError{Field: "readyTimeout", Value: o.ReadyTimeout.String(), Reason: "must not be negative"})
	}
	if len(bad) > 0 {
		return &InvalidOptionsError{Fields: bad}
	}
	return nil
}

// withDefaults fills the zero timeouts.
func (o Options) withDefaults() Options {
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	return o
}

// validateName checks a MemberCluster name for Unjoin.
func validateName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return &InvalidOptionsError{Fields: []FieldError{{Field: "name", Value: name, Reason: "must be a DNS label: " + strings.Join(errs, "; ")}}}
	}
	return nil
}

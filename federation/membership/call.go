package membership

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// pollInterval is how often Join re-checks the token and the authorisation
// of the new credentials while it waits for them.
const pollInterval = 100 * time.Millisecond

// call runs f with a context that expires after timeout.
func call(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return f(ctx)
}

// poll calls check until it reports done, returns an error, or timeout
// passes; each check gets callTimeout.
func poll(ctx context.Context, timeout, callTimeout time.Duration, check func(context.Context) (bool, error)) error {
	return wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		var done bool
		err := call(ctx, callTimeout, func(ctx context.Context) error {
			var err error
			done, err = check(ctx)
			return err
		})
		return done, err
	})
}

// setLabels merges labels into an object's labels.
func setLabels(obj metav1.Object, labels map[string]string) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	for k, v := range labels {
		l[k] = v
	}
	obj.SetLabels(l)
}

// setAnnotation sets one annotation of an object.
func setAnnotation(obj metav1.Object, key, value string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	obj.SetAnnotations(a)
}

// memberLabels mark an object as made by Join for the MemberCluster name.
func memberLabels(name string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedBy, LabelMember: name}
}

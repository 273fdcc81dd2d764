package membership

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// waitAuthorized waits until the minted kubeconfig authenticates in the
// member and its ClusterRole is in force there: a new binding reaches the
// API server's authorizer cache a moment after it is written. It also
// proves that the server URL and certificate authority in the kubeconfig
// work.
func (j *joiner) waitAuthorized(ctx context.Context, kubeconfig []byte) error {
	cfg, err := restConfigFrom(kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client from the minted kubeconfig: %w", err)
	}
	last := errors.New("not tried")
	err = poll(ctx, j.opts.ReadyTimeout, j.opts.CallTimeout, func(ctx context.Context) (bool, error) {
		// Nodes are readable only through the fedstate:hub binding.
		_, last = cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("member: the minted credentials are not authorised after %s: %w", j.opts.ReadyTimeout, errors.Join(err, last))
	}
	j.log.Info("Verified the minted credentials", "in", string(SideMember))
	return nil
}

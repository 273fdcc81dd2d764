package members

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// credentialError says why a MemberCluster's kubeconfig cannot be used;
// Reason is a condition reason.
type credentialError struct {
	Reason, Message string
}

func (e *credentialError) Error() string { return e.Reason + ": " + e.Message }

// reconcileNormal connects the member with the kubeconfig of its Secret,
// or disconnects it and reports why the kubeconfig is unusable. The status
// is patched on the way out; observedGeneration moves only once the member
// is connected with the current spec.
func (r *MemberClusterReconciler) reconcileNormal(ctx context.Context, mc *v1alpha1.MemberCluster) (err error) {
	before := mc.DeepCopy()
	defer func() {
		if perr := r.patchStatus(ctx, before, mc); perr != nil {
			err = errors.Join(err, perr)
		}
	}()
	rc, hash, err := r.kubeconfig(ctx, mc)
	var cred *credentialError
	if errors.As(err, &cred) {
		if err := r.Registry.disconnect(ctx, mc.Name); err != nil {
			return err
		}
		applyCredentialProblem(&mc.Status, cred.Reason, cred.Message, mc.Generation)
		// A fixed Secret triggers the next reconcile through the Secret
		// watch; nothing to retry until then.
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.Registry.connect(ctx, mc.Name, rc, hash); err != nil {
		return err
	}
	mc.Status.ObservedGeneration = mc.Generation
	return nil
}

// kubeconfig reads and parses the member's kubeconfig Secret. Errors the
// user must fix are *credentialError.
func (r *MemberClusterReconciler) kubeconfig(ctx context.Context, mc *v1alpha1.MemberCluster) (*rest.Config, string, error) {
	ref := mc.Spec.KubeconfigSecretRef
	key := ref.Key
	if key == "" {
		key = DefaultKubeconfigKey
	}
	secret := &corev1.Secret{}
	cctx, cancel := context.WithTimeout(ctx, hubTimeout)
	defer cancel()
	if err := r.APIReader.Get(cctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", &credentialError{Reason: v1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("Secret %s/%s not found", ref.Namespace, ref.Name)}
		}
		return nil, "", fmt.Errorf("get Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	rc, hash, err := parseKubeconfig(secret.Data, key)
	if err != nil {
		return nil, "", &credentialError{Reason: v1alpha1.ReasonKubeconfigInvalid, Message: fmt.Sprintf("Secret %s/%s: %v", ref.Namespace, ref.Name, err)}
	}
	return rc, hash, nil
}

// reconcileDelete disconnects the member, then releases the MemberCluster.
// Nothing in the member is deleted.
func (r *MemberClusterReconciler) reconcileDelete(ctx context.Context, mc *v1alpha1.MemberCluster) error {
	if err := r.Registry.disconnect(ctx, mc.Name); err != nil {
		return err
	}
	if !controllerutil.ContainsFinalizer(mc, Finalizer) {
		return nil
	}
	before := mc.DeepCopy()
	controllerutil.RemoveFinalizer(mc, Finalizer)
	return r.patch(ctx, before, mc)
}

// patch merge-patches mc's metadata and spec.
func (r *MemberClusterReconciler) patch(ctx context.Context, before, mc *v1alpha1.MemberCluster) error {
	ctx, cancel := context.WithTimeout(ctx, hubTimeout)
	defer cancel()
	if err := r.Client.Patch(ctx, mc, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patch MemberCluster %s: %w", mc.Name, err)
	}
	return nil
}

// patchStatus writes mc's status if it changed, then emits the events of
// the transitions it wrote. Conditions are patched under optimistic
// locking, since the registry writes them too.
func (r *MemberClusterReconciler) patchStatus(ctx context.Context, before, mc *v1alpha1.MemberCluster) error {
	if equality.Semantic.DeepEqual(before.Status, mc.Status) {
		return nil
	}
	var opts []client.MergeFromOption
	if !equality.Semantic.DeepEqual(before.Status.Conditions, mc.Status.Conditions) {
		opts = append(opts, client.MergeFromWithOptimisticLock{})
	}
	ctx, cancel := context.WithTimeout(ctx, hubTimeout)
	defer cancel()
	if err := r.Client.Status().Patch(ctx, mc, client.MergeFromWithOptions(before, opts...)); err != nil {
		return fmt.Errorf("patch status of MemberCluster %s: %w", mc.Name, err)
	}
	for _, n := range transitionEvents(before.Status.Conditions, mc.Status.Conditions) {
		r.Recorder.Eventf(mc, nil, n.Type, n.Reason, "Connect", "%s", n.Note)
	}
	return nil
}

package membership

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// SecretName is the name of the hub Secret, in Namespace, holding the
// kubeconfig of the MemberCluster called member.
func SecretName(member string) string { return member + "-kubeconfig" }

// checkHubScheme fails when the hub client cannot handle the types Join
// and Unjoin use.
func checkHubScheme(hub client.Client) error {
	var missing []string
	for _, gvk := range []schema.GroupVersionKind{
		corev1.SchemeGroupVersion.WithKind("Namespace"),
		corev1.SchemeGroupVersion.WithKind("Secret"),
		v1alpha1.GroupVersion.WithKind("MemberCluster"),
		v1alpha1.GroupVersion.WithKind("FederatedStatefulSetList"),
	} {
		if !hub.Scheme().Recognizes(gvk) {
			missing = append(missing, gvk.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("membership: the hub client's scheme lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// hubError explains a failed hub call, pointing at the CRDs when the hub
// does not serve the fedstate.io API.
func hubError(what string, err error) error {
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("hub: %s: the hub does not serve fedstate.io/v1alpha1; install the CRDs (kubectl apply --server-side -f config/crd/bases): %w", what, err)
	}
	return fmt.Errorf("hub: %s: %w", what, err)
}

// checkHub fails when a MemberCluster of that name stands for another
// cluster.
func (j *joiner) checkHub(ctx context.Context, id string) error {
	var mc v1alpha1.MemberCluster
	err := call(ctx, j.opts.CallTimeout, func(ctx context.Context) error {
		return j.hub.Get(ctx, client.ObjectKey{Name: j.opts.Name}, &mc)
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return hubError("get MemberCluster "+j.opts.Name, err)
	}
	if other := mc.Annotations[AnnotationClusterID]; other != "" && other != id {
		return fmt.Errorf("%w: MemberCluster %s has cluster ID %s, this cluster is %s; unjoin %s first or choose another name",
			ErrNameTaken, j.opts.Name, other, id, j.opts.Name)
	}
	return nil
}

// ensureHub stores the kubeconfig Secret, then the MemberCluster, so that
// the MemberCluster never exists without its Secret.
func (j *joiner) ensureHub(ctx context.Context, kubeconfig []byte, id string) error {
	name := j.opts.Name
	if err := j.waitNamespaceUsable(ctx, j.hub, SideHub); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if err := j.ensure(ctx, j.hub, SideHub, "Namespace", ns, func() error {
		setLabels(ns, map[string]string{LabelManagedBy: ManagedBy})
		return nil
	}); err != nil {
		return err
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: SecretName(name)}}
	if err := j.ensure(ctx, j.hub, SideHub, "Secret", sec, func() error {
		if sec.CreationTimestamp.IsZero() {
			sec.Type = corev1.SecretTypeOpaque
		}
		setLabels(sec, memberLabels(name))
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		sec.Data[KubeconfigKey] = kubeconfig
		return nil
	}); err != nil {
		return err
	}
	mc := &v1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := j.ensure(ctx, j.hub, SideHub, "MemberCluster", mc, func() error {
		setLabels(mc, map[string]string{LabelManagedBy: ManagedBy, LabelRegion: j.opts.Region})
		if j.opts.Zone != "" {
			setLabels(mc, map[string]string{LabelZone: j.opts.Zone})
		} else {
			delete(mc.Labels, LabelZone)
		}
		setAnnotation(mc, AnnotationClusterID, id)
		mc.Spec.Region, mc.Spec.Zone = j.opts.Region, j.opts.Zone
		mc.Spec.KubeconfigSecretRef = v1alpha1.SecretKeyReference{Namespace: Namespace, Name: SecretName(name), Key: KubeconfigKey}
		return nil
	})
	if meta.IsNoMatchError(err) {
		return hubError("MemberCluster "+name, err)
	}
	return err
}

package membership_test

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/membership"
)

// checkRegistered checks the MemberCluster and kubeconfig Secret of a fresh
// join, and that the kubeconfig carries the hub's token and nothing of the
// admin's credentials.
func checkRegistered(t *testing.T, name string, opts membership.Options, res membership.Result) {
	admin := adminConfig(t, name)
	for _, o := range res.Objects {
		if o.Side == membership.SideMember && o.Operation != membership.Created {
			t.Errorf("fresh member: %s was %s, want created", o.ObjectRef, o.Operation)
		}
	}
	kubeSystem, err := clientset(t, admin).CoreV1().Namespaces().Get(ctx(t), metav1.NamespaceSystem, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ClusterID != string(kubeSystem.UID) || res.Server != admin.Host {
		t.Errorf("Result: cluster ID %s server %s, want %s %s", res.ClusterID, res.Server, kubeSystem.UID, admin.Host)
	}

	var mc v1alpha1.MemberCluster
	if err := hub.Get(ctx(t), client.ObjectKey{Name: name}, &mc); err != nil {
		t.Fatalf("get MemberCluster: %v", err)
	}
	wantRef := v1alpha1.SecretKeyReference{Namespace: membership.Namespace, Name: name + "-kubeconfig", Key: "kubeconfig"}
	if mc.Spec.Region != opts.Region || mc.Spec.Zone != opts.Zone || mc.Spec.KubeconfigSecretRef != wantRef {
		t.Errorf("MemberCluster spec = %+v", mc.Spec)
	}
	if mc.Labels[membership.LabelRegion] != opts.Region || mc.Labels[membership.LabelZone] != opts.Zone {
		t.Errorf("MemberCluster labels = %v, want region and zone", mc.Labels)
	}
	if mc.Annotations[membership.AnnotationClusterID] != string(kubeSystem.UID) {
		t.Errorf("MemberCluster cluster ID = %q, want %s", mc.Annotations[membership.AnnotationClusterID], kubeSystem.UID)
	}

	kc, err := clientcmd.Load(hubKubeconfig(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if len(kc.Clusters) != 1 || len(kc.AuthInfos) != 1 || len(kc.Contexts) != 1 {
		t.Fatalf("kubeconfig has %d clusters, %d users, %d contexts; want one each", len(kc.Clusters), len(kc.AuthInfos), len(kc.Contexts))
	}
	cluster, user := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster], kc.AuthInfos[kc.Contexts[kc.CurrentContext].AuthInfo]
	if cluster.Server != admin.Host || !bytes.Equal(cluster.CertificateAuthorityData, admin.CAData) || cluster.InsecureSkipTLSVerify {
		t.Errorf("kubeconfig cluster = server %s, %d bytes of CA, insecure %t; want the member's server and CA",
			cluster.Server, len(cluster.CertificateAuthorityData), cluster.InsecureSkipTLSVerify)
	}
	if user.Token == "" || user.Token == admin.BearerToken {
		t.Errorf("kubeconfig token is empty or the admin's")
	}
	if user.ClientCertificateData != nil || user.ClientKeyData != nil || user.Exec != nil || user.AuthProvider != nil ||
		user.Username != "" || user.Password != "" || user.TokenFile != "" || user.Impersonate != "" {
		t.Errorf("kubeconfig user carries more than the token: %+v", user)
	}

	var tokens corev1.SecretList
	if err := mustClient(t, admin).List(ctx(t), &tokens, client.InNamespace(membership.Namespace)); err != nil {
		t.Fatal(err)
	}
	if n := countTokens(tokens); n != 1 {
		t.Errorf("member has %d service-account-token Secrets for %s, want 1", n, membership.ServiceAccountName)
	}
}

// countTokens counts the token Secrets of the hub's ServiceAccount.
func countTokens(list corev1.SecretList) int {
	n := 0
	for _, s := range list.Items {
		if s.Type == corev1.SecretTypeServiceAccountToken && s.Annotations[corev1.ServiceAccountNameKey] == membership.ServiceAccountName {
			n++
		}
	}
	return n
}

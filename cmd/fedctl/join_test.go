package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/federation/membership"
)

// run runs one fedctl command line in-process and returns its standard
// output and standard error apart.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// wants fails the test for every string of want that text lacks.
func wants(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// callCtx is a context with a deadline for one API call of a test.
func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestJoinAndUnjoinCommands drives fedctl join and unjoin against the test
// bed, the hub taken from $KUBECONFIG as kubectl would.
func TestJoinAndUnjoinCommands(t *testing.T) {
	bed := federation(t)
	hubCluster, err := bed.Cluster(testbed.HubName)
	if err != nil {
		t.Fatal(err)
	}
	member, err := bed.Cluster("eu-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", hubCluster.Kubeconfig)
	hubCfg, err := bed.RESTConfig(testbed.HubName)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := hubClient(hubCfg)
	if err != nil {
		t.Fatal(err)
	}
	memberCfg, err := bed.RESTConfig("eu-1")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(memberCfg, client.Options{Scheme: hub.Scheme()})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("bad arguments create nothing", func(t *testing.T) {
		checkBadArguments(t, member.Kubeconfig)
		if err := hub.Get(callCtx(t), client.ObjectKey{Name: "eu-1"}, &v1alpha1.MemberCluster{}); !apierrors.IsNotFound(err) {
			t.Errorf("MemberCluster eu-1 after bad arguments: %v", err)
		}
		if err := admin.Get(callCtx(t), client.ObjectKey{Name: membership.Namespace}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
			t.Errorf("member Namespace %s after bad arguments: %v", membership.Namespace, err)
		}
	})

	out, progress, err := run(t, "join", "eu-1", "--kubeconfig", member.Kubeconfig, "--region", "eu-west", "--zone", "eu-west-a")
	if err != nil {
		t.Fatalf("fedctl join: %v\n%s%s", err, out, progress)
	}
	wants(t, "join summary", out, "Joined eu-1 (region eu-west, zone eu-west-a).", member.Server,
		"Namespace fedstate-system", "ClusterRole fedstate:hub", "Secret fedstate-system/eu-1-kubeconfig", "MemberCluster eu-1", "created")
	wants(t, "join progress", progress, "Created cluster=eu-1 in=member object=\"ClusterRole fedstate:hub\"", "Verified the minted credentials")
	var mc v1alpha1.MemberCluster
	if err := hub.Get(callCtx(t), client.ObjectKey{Name: "eu-1"}, &mc); err != nil || mc.Spec.Region != "eu-west" {
		t.Fatalf("MemberCluster after join: %+v, %v", mc.Spec, err)
	}

	out, _, err = run(t, "join", "eu-1", "--kubeconfig", member.Kubeconfig, "--region", "eu-west", "--zone", "eu-west-a",
		"--hub-kubeconfig", hubCluster.Kubeconfig)
	if err != nil {
		t.Fatalf("fedctl join again: %v", err)
	}
	wants(t, "second join summary", out, "eu-1 was already joined (region eu-west, zone eu-west-a); nothing changed.")
	if strings.Contains(out, "created") || strings.Contains(out, "updated") {
		t.Errorf("second join changed something:\n%s", out)
	}

	svc := placeService(t, hub)
	_, _, err = run(t, "unjoin", "eu-1")
	if err == nil || !strings.Contains(err.Error(), "shop/db (ordinals 0-1)") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("unjoin while in use: %v, want a refusal naming shop/db and --force", err)
	}

	out, _, err = run(t, "unjoin", "eu-1", "--force")
	if err != nil {
		t.Fatalf("fedctl unjoin --force: %v\n%s", err, out)
	}
	wants(t, "forced unjoin summary", out, "Unjoined eu-1.", "Still placed there", "shop/db (ordinals 0-1)",
		"hub  MemberCluster eu-1", "Left behind:", "ClusterRole fedstate:hub", "not deleted (if present): no member configuration was given",
		"fedctl unjoin eu-1 --kubeconfig FILE")
	if err := hub.Get(callCtx(t), client.ObjectKey{Name: "eu-1"}, &v1alpha1.MemberCluster{}); !apierrors.IsNotFound(err) {
		t.Errorf("MemberCluster after unjoin: %v", err)
	}

	if err := hub.Delete(callCtx(t), svc); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "unjoin", "eu-1", "--kubeconfig", member.Kubeconfig)
	if err != nil {
		t.Fatalf("fedctl unjoin --kubeconfig: %v\n%s", err, out)
	}
	wants(t, "member clean-up summary", out, "member  ClusterRoleBinding fedstate:hub", "member  Namespace fedstate-system", "Nothing left behind.")
	if err := admin.Get(callCtx(t), client.ObjectKey{Name: membership.ClusterRoleName}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("member ClusterRole after unjoin: %v", err)
	}

	out, _, err = run(t, "unjoin", "eu-1", "--kubeconfig", member.Kubeconfig)
	if err != nil {
		t.Fatalf("fedctl unjoin once more: %v\n%s", err, out)
	}
	wants(t, "summary of an unjoin with nothing left", out, "Found nothing of eu-1 to delete.", "Nothing left behind.")
}

// checkBadArguments: every bad argument is named, all at once.
func checkBadArguments(t *testing.T, memberKubeconfig string) {
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"join", "eu-1", "--kubeconfig", memberKubeconfig}, []string{`--region "": must be set`}},
		{[]string{"join", "EU_1", "--kubeconfig", memberKubeconfig, "--region", "eu-west"}, []string{`NAME "EU_1": must be a DNS label`}},
		{[]string{"join", "eu-1", "--region", "eu-west"}, []string{"--kubeconfig: required"}},
		{[]string{"join", "eu-1", "--kubeconfig", "/nonexistent/kubeconfig", "--region", "eu-west"}, []string{"--kubeconfig /nonexistent/kubeconfig:"}},
		{[]string{"join", "eu-1", "--kubeconfig", garbage, "--region", "eu-west"}, []string{"--kubeconfig " + garbage + ":"}},
		{[]string{"join", "eu-1", "--kubeconfig", memberKubeconfig, "--region", "eu-west", "--hub-kubeconfig", "/nonexistent/hub"}, []string{"--hub-kubeconfig /nonexistent/hub:"}},
		{[]string{"join", "x.", "--kubeconfig", "/nonexistent/kubeconfig", "--zone", "a b"},
			[]string{`NAME "x."`, `--region ""`, `--zone "a b"`, "--kubeconfig /nonexistent/kubeconfig:"}},
		{[]string{"unjoin", "EU_1"}, []string{`NAME "EU_1": must be a DNS label`}},
		{[]string{"unjoin", "eu-1", "--kubeconfig", garbage}, []string{"--kubeconfig " + garbage + ":"}},
	} {
		out, progress, err := run(t, tc.args...)
		if err == nil {
			t.Errorf("fedctl %s succeeded:\n%s", strings.Join(tc.args, " "), out)
			continue
		}
		wants(t, "error of fedctl "+strings.Join(tc.args, " "), err.Error(), tc.want...)
		if progress != "" {
			t.Errorf("fedctl %s made progress before failing:\n%s", strings.Join(tc.args, " "), progress)
		}
	}
}

// placeService makes FederatedStatefulSet shop/db in the hub with ordinals
// 0-1 in eu-1.
func placeService(t *testing.T, hub client.Client) *v1alpha1.FederatedStatefulSet {
	t.Helper()
	if err := hub.Create(callCtx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	f := &v1alpha1.FederatedStatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"},
		Spec: v1alpha1.FederatedStatefulSetSpec{Replicas: 2, Template: v1alpha1.StatefulSetTemplate{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:17"}}},
		}}},
	}
	if err := hub.Create(callCtx(t), f); err != nil {
		t.Fatal(err)
	}
	f.Status.Ordinals = []v1alpha1.OrdinalRange{{Cluster: "eu-1", Start: 0, Count: 2}}
	if err := hub.Status().Update(callCtx(t), f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestJoinAndUnjoinHelp: every flag is explained and there are examples.
func TestJoinAndUnjoinHelp(t *testing.T) {
	for _, sub := range []string{"join", "unjoin"} {
		out, _, err := run(t, sub, "--help")
		if err != nil {
			t.Fatalf("fedctl %s --help: %v", sub, err)
		}
		wants(t, sub+" --help", out, "Examples:", "fedctl "+sub+" ", "--kubeconfig", "--context", "--hub-kubeconfig", "--hub-context")
		cmd, _, err := newRootCommand().Find([]string{sub})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"kubeconfig", "context", "hub-kubeconfig", "hub-context"} {
			if f := cmd.Flags().Lookup(name); f == nil || len(f.Usage) < 20 {
				t.Errorf("fedctl %s --%s: missing or unexplained", sub, name)
			}
		}
	}
	out, _, _ := run(t, "join", "--help")
	wants(t, "join --help", out, "--region", "--zone", "least privilege")
	out, _, _ = run(t, "unjoin", "--help")
	wants(t, "unjoin --help", out, "--force", "never deletes workloads")
}

package v1alpha1_test

import (
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// TestSamples: the API server accepts every sample under config/samples as
// it is (a dry run in the sample's namespace as "default").
func TestSamples(t *testing.T) {
	files, err := filepath.Glob("../../../config/samples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(b, &tm); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var obj client.Object = &v1alpha1.FederatedStatefulSet{}
			if tm.Kind == "FailoverDrill" {
				obj = &v1alpha1.FailoverDrill{}
			}
			if err := yaml.UnmarshalStrict(b, obj); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			obj.SetNamespace("default")
			if err := hub.Create(t.Context(), obj, client.DryRunAll); err != nil {
				t.Errorf("%s refused: %v", f, err)
			}
		})
	}
}

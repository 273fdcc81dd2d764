package v1alpha1_test

import (
	"os"
	"path/filepath"
	"testing"

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
			var fss v1alpha1.FederatedStatefulSet
			if err := yaml.UnmarshalStrict(b, &fss); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			fss.Namespace = "default"
			if err := hub.Create(t.Context(), &fss, client.DryRunAll); err != nil {
				t.Errorf("%s refused: %v", f, err)
			}
		})
	}
}

// Package demo tests make demo: the local federation started from the
// source tree, a PostgreSQL fleet over three regions, a RegionOutage drill
// and its report, as a newcomer runs it from the README.
package demo

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// demoTimeout bounds the whole demo: the binaries are built by make test's
// tools target before, so this is start, placement, load and the drill.
const demoTimeout = 12 * time.Minute

func TestDemo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("must run as root: the agents run PostgreSQL as the postgres user")
	}
	if _, err := user.Lookup("postgres"); err != nil {
		t.Fatalf("the postgres OS user is missing (Debian package postgresql-15): %v", err)
	}
	root, ok := testbed.SourceRoot()
	if !ok {
		t.Fatal("cannot find the source tree")
	}
	dir, err := os.MkdirTemp("", "fedstate-demo-")
	if err != nil {
		t.Fatal(err)
	}
	fedctl := filepath.Join(root, "bin", "fedctl")
	t.Cleanup(func() {
		down := exec.Command(fedctl, "local", "down", "--dir", dir)
		if out, err := down.CombinedOutput(); err != nil && !strings.Contains(string(out), "no local federation") {
			t.Errorf("fedctl local down: %v\n%s", err, out)
		}
		_ = os.RemoveAll(dir)
	})

	ctx, cancel := context.WithTimeout(t.Context(), demoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "demo")
	cmd.Dir = root
	cmd.Env = append(withoutMake(os.Environ()), "FEDSTATE_LOCAL_DIR="+dir, "DEMO_HOLD=3s", "DEMO_LOAD=5")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("make demo ran %s", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("make demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"Local federation up", "pg-0 in eu-1", "primary.pg.demo.svc.fedstate.local.",
		"Passed", "Stop it with: bin/fedctl local down",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("make demo printed no %q:\n%s", want, text)
		}
	}

	// The drill's status holds its measures; the picture is where the
	// demo says.
	fed, _, err := localfed.Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	var drills v1alpha1.FailoverDrillList
	if err := fed.Hub.List(t.Context(), &drills, client.InNamespace("demo")); err != nil {
		t.Fatal(err)
	}
	if len(drills.Items) != 1 {
		t.Fatalf("%d drills in demo, want 1", len(drills.Items))
	}
	d := drills.Items[0]
	if d.Status.Verdict != v1alpha1.VerdictPassed || d.Status.RTO == nil || d.Status.RTO.Duration <= 0 {
		t.Errorf("drill %s: verdict %q (%s), RTO %v; want Passed with an RTO", d.Name, d.Status.Verdict, d.Status.Reason, d.Status.RTO)
	}
	m := regexp.MustCompile(`Timeline picture: (\S+)/timeline\.svg`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("make demo printed no picture path:\n%s", text)
	}
	if m[1] != d.Status.ReportPath {
		t.Errorf("picture in %s, drill's reportPath %s", m[1], d.Status.ReportPath)
	}
	checkSVG(t, filepath.Join(m[1], "timeline.svg"))
	checkPNG(t, filepath.Join(m[1], "timeline.png"))

	// The federation is left running, and says so.
	status := exec.Command(fedctl, "local", "status", "--dir", dir)
	if b, err := status.CombinedOutput(); err != nil {
		t.Errorf("fedctl local status after the demo: %v\n%s", err, b)
	}

	// Killing the primary's region for real fails the primary over;
	// starting it again brings every replica back.
	local := func(args ...string) {
		t.Helper()
		b, err := exec.Command(fedctl, append([]string{"local"}, append(args, "--dir", dir)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("fedctl local %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		t.Logf("fedctl local %s: %s", strings.Join(args, " "), bytes.TrimSpace(b))
	}
	pg := func() *v1alpha1.FederatedStatefulSet {
		fss, err := fed.Service(t.Context(), "demo", "pg")
		if err != nil {
			t.Fatal(err)
		}
		return fss
	}
	// The drill switched back a moment ago: wait until a standby in
	// another region confirms it is synchronous again, or the loss of eu-1
	// leaves no candidate without data loss (and rightly no promotion).
	waitFor(t, 2*time.Minute, "the primary back in eu-1 with a synchronous standby", func() bool {
		fss := pg()
		sync := false
		for _, r := range fss.Status.ReplicaStatuses {
			sync = sync || (r.Role == v1alpha1.RoleSyncStandby && r.Cluster != "eu-1")
		}
		return sync && fss.Status.Primary != nil && fss.Status.Primary.Cluster == "eu-1" &&
			meta.IsStatusConditionFalse(fss.Status.Conditions, v1alpha1.ServiceFailingOver)
	})
	before := pg().Status.Primary
	killed := time.Now()
	local("stop", "eu-1")
	waitFor(t, time.Minute, "a primary outside eu-1", func() bool {
		p := pg().Status.Primary
		return p != nil && p.Cluster != "eu-1" && p.Epoch > before.Epoch
	}, func() string {
		c := meta.FindStatusCondition(pg().Status.Conditions, v1alpha1.ServiceFailingOver)
		if c == nil {
			return "no FailingOver condition"
		}
		return fmt.Sprintf("FailingOver %s %s: %s", c.Status, c.Reason, c.Message)
	})
	t.Logf("primary %+v, %s after eu-1 was killed", *pg().Status.Primary, time.Since(killed).Round(time.Millisecond))
	local("start", "eu-1")
	waitFor(t, 2*time.Minute, "every replica ready again", func() bool { return pg().Status.ReadyReplicas == 5 })
}

// waitFor polls cond every half second until it holds or within passes;
// explain, if given, says what was seen instead.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			for _, e := range explain {
				what += "; " + e()
			}
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// withoutMake drops the variables of an enclosing make (make test), whose
// job server and flags must not reach the demo's own make.
func withoutMake(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: no <svg> element: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "svg" {
				t.Fatalf("%s: root element <%s>, want <svg>", path, se.Name.Local)
			}
			break
		}
	}
	for {
		if _, err := dec.Token(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: not well-formed XML: %v", path, err)
			}
			return
		}
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("%s: %dx%d pixels, want a picture", path, b.Dx(), b.Dy())
	}
}

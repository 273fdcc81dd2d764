package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// svgElements parses an SVG document and returns its root element's name
// and the text of every <text> element.
func svgElements(t *testing.T, doc []byte) (root string, texts []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var inText bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return root, texts
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
}

func TestSVG(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  Data
		wants []string
	}{
		{name: "drill", data: fixture(), wants: []string{
			"Region outage of eu-west, prod/db — Passed", titlePhases, titleWrites, titleLag,
			"detect", "first client success", "ok/s", "errors/s", "db-1", "db-2", "failover",
			"time since start (s)", "writes/s", "lag (bytes)", "5.600 s", "at 17.400 s",
		}},
		{name: "nothing recorded", data: Data{Title: "Empty"}, wants: []string{
			"Empty", titlePhases + " (none recorded)", titleWrites + " (no traffic recorded)", titleLag + " (no samples)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSVG(&buf, tc.data, DefaultSize()); err != nil {
				t.Fatal(err)
			}
			root, texts := svgElements(t, buf.Bytes())
			if root != "svg" {
				t.Errorf("root element <%s>, want <svg>", root)
			}
			all := strings.Join(texts, "\n")
			for _, w := range tc.wants {
				if !strings.Contains(all, w) {
					t.Errorf("no text %q in the SVG; texts:\n%s", w, all)
				}
			}
			if *update && tc.name == "drill" {
				writeFile(t, "timeline.svg", buf.Bytes())
			}
		})
	}
}

func TestPNG(t *testing.T) {
	for _, size := range []Size{DefaultSize(), {Width: 6 * vg.Inch, Height: 4 * vg.Inch, DPI: 150}} {
		var buf bytes.Buffer
		if err := WritePNG(&buf, fixture(), size); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("PNG does not decode: %v", err)
		}
		w, h := size.Pixels()
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Errorf("PNG %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
		}
		if *update && size == DefaultSize() {
			writeFile(t, "timeline.png", buf.Bytes())
		}
	}
	if w, h := DefaultSize().Pixels(); w != 960 || h != 768 {
		t.Errorf("default size %dx%d, want 960x768", w, h)
	}
	if err := WritePNG(io.Discard, fixture(), Size{Width: vg.Inch}); err == nil {
		t.Error("a size without height and resolution was accepted")
	}
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

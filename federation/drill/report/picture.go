package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Panel titles, also what tests look for in the SVG.
const (
	titlePhases = "Phases"
	titleWrites = "Client writes"
	titleLag    = "Replication lag"
)

// Size is the size of a picture: Width by Height, and for PNG the
// resolution in dots per inch.
type Size struct {
	Width, Height vg.Length
	DPI           int
}

// DefaultSize is 10 by 8 inches at 96 dpi: 960 by 768 pixels, three panels
// that each fit a phase list or a legend of a few replicas.
func DefaultSize() Size {
	return Size{Width: 10 * vg.Inch, Height: 8 * vg.Inch, DPI: 96}
}

// Pixels is the PNG's size in pixels.
func (s Size) Pixels() (w, h int) {
	px := func(l vg.Length) int { return int(math.Round(float64(l/vg.Inch) * float64(s.DPI))) }
	return px(s.Width), px(s.Height)
}

func (s Size) validate() error {
	if s.Width <= 0 || s.Height <= 0 || s.DPI <= 0 {
		return fmt.Errorf("picture size %vx%v at %d dpi: every figure must be positive", s.Width, s.Height, s.DPI)
	}
	return nil
}

// WriteSVG draws the drill's timeline as SVG to w.
func WriteSVG(w io.Writer, d Data, size Size) error {
	if err := size.validate(); err != nil {
		return err
	}
	c := vgsvg.New(size.Width, size.Height)
	drawTimeline(draw.New(c), d)
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("write SVG: %w", err)
	}
	return nil
}

// WritePNG draws the drill's timeline as PNG to w, size.Pixels() large.
func WritePNG(w io.Writer, d Data, size Size) error {
	if err := size.validate(); err != nil {
		return err
	}
	c := vgimg.NewWith(vgimg.UseWH(size.Width, size.Height), vgimg.UseDPI(size.DPI), vgimg.UseBackgroundColor(color.White))
	drawTimeline(draw.New(c), d)
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("write PNG: %w", err)
	}
	return nil
}

// headline is the room above the panels for the drill's title.
const headline = vg.Length(26)

// headroom leaves the top third of the writes and lag panels to their
// legends.
const headroom = 1.5

// drawTimeline draws the title and three panels stacked over one time
// axis: phases, client writes, replication lag, each with the failover
// instant as a vertical line.
func drawTimeline(dc draw.Canvas, d Data) {
	title := d.Title
	if d.Verdict.Result != "" {
		title += " — " + string(d.Verdict.Result)
	}
	dc.FillText(textStyle(14, draw.XCenter), vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - headline/2}, title)
	body := draw.Crop(dc, 0, 0, 0, -headline)

	origin := d.Origin()
	sec := func(t time.Time) float64 { return t.Sub(origin).Seconds() }
	end := math.Max(1, sec(d.last()))
	panels := []*plot.Plot{phasePanel(d, sec), writesPanel(d, sec), lagPanel(d, sec)}
	panels[len(panels)-1].X.Label.Text = "time since start (s)"
	for _, p := range panels {
		p.X.Min, p.X.Max = 0, end
		if !d.Failover.IsZero() {
			l := vline{x: sec(d.Failover), style: draw.LineStyle{Color: color.RGBA{R: 200, A: 255}, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}}
			p.Add(l)
			p.Legend.Add("failover", l)
		}
		p.Legend.Top = true
		p.Legend.TextStyle.Font.Size = 9
		p.Legend.ThumbnailWidth = vg.Points(18)
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: vg.Points(2), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	grid := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		grid[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(grid, tiles, body)
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
}

// phasePanel shows each phase as a bar, the first on top.
func phasePanel(d Data, sec func(time.Time) float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = titlePhases
	if len(d.Phases) == 0 {
		p.Title.Text += " (none recorded)"
		p.Y.Min, p.Y.Max = 0, 1
		p.HideY()
		return p
	}
	bars := phaseBars{text: textStyle(8, draw.XLeft)}
	names := make([]string, len(d.Phases))
	for i, ph := range d.Phases {
		row := len(d.Phases) - 1 - i
		names[row] = ph.Name
		label := formatSeconds(ph.Duration())
		if ph.End.IsZero() {
			label = "at " + formatSeconds(ph.Start.Sub(d.Origin()))
		}
		bars.spans = append(bars.spans, span{name: ph.Name, start: sec(ph.Start), end: sec(ph.end()), y: float64(row),
			color: plotutil.Color(i), label: label})
	}
	p.Add(bars)
	p.NominalY(names...)
	return p
}

// writesPanel shows acknowledged writes and failed writes per second.
func writesPanel(d Data, sec func(time.Time) float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = titleWrites
	p.Y.Label.Text = "writes/s"
	p.Y.Min, p.Y.Max = 0, 1
	if len(d.Load.Buckets) == 0 {
		p.Title.Text += " (no traffic recorded)"
		return p
	}
	ok := make(plotter.XYs, 0, len(d.Load.Buckets)+1)
	bad := make(plotter.XYs, 0, len(d.Load.Buckets)+1)
	for _, b := range d.Load.Buckets {
		x := sec(b.Start)
		ok = append(ok, plotter.XY{X: x, Y: float64(b.Writes)})
		bad = append(bad, plotter.XY{X: x, Y: float64(b.WriteErrors)})
		p.Y.Max = math.Max(p.Y.Max, float64(max(b.Writes, b.WriteErrors))*headroom)
	}
	// The last step ends where the last second does.
	last := d.Load.Buckets[len(d.Load.Buckets)-1]
	ok = append(ok, plotter.XY{X: sec(last.Start) + 1, Y: float64(last.Writes)})
	bad = append(bad, plotter.XY{X: sec(last.Start) + 1, Y: float64(last.WriteErrors)})
	for _, s := range []struct {
		name string
		xys  plotter.XYs
		c    color.Color
	}{
		{"ok/s", ok, color.RGBA{G: 130, B: 60, A: 255}},
		{"errors/s", bad, color.RGBA{R: 220, G: 90, A: 255}},
	} {
		l, err := plotter.NewLine(s.xys)
		if err != nil {
			// Only NaN or infinite values fail, which counts never are.
			continue
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Width = s.c, vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	return p
}

// lagPanel shows each replica's replication lag in bytes.
func lagPanel(d Data, sec func(time.Time) float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = titleLag
	p.Y.Label.Text = "lag (bytes)"
	p.Y.Tick.Marker = byteTicks{}
	p.Y.Min, p.Y.Max = 0, 1024
	if len(d.Lag) == 0 {
		p.Title.Text += " (no samples)"
		return p
	}
	for i, s := range d.Lag {
		xys := make(plotter.XYs, 0, len(s.Samples))
		for _, x := range s.Samples {
			xys = append(xys, plotter.XY{X: sec(x.At), Y: float64(x.Bytes)})
			p.Y.Max = math.Max(p.Y.Max, float64(x.Bytes)*headroom)
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			continue
		}
		l.Color, l.Width = plotutil.Color(i), vg.Points(1.5)
		l.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
		p.Add(l)
		p.Legend.Add(s.Replica, l)
	}
	return p
}

// formatSeconds writes d in seconds with millisecond precision: "1.234 s".
func formatSeconds(d time.Duration) string {
	return fmt.Sprintf("%.3f s", d.Seconds())
}

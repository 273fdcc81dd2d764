package report

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// span is one phase on the phase panel: a bar from start to end (seconds
// from the origin) on row y.
type span struct {
	name       string
	start, end float64
	y          float64
	color      color.Color
	label      string
}

// phaseBars draws the phases as horizontal bars, an instant as a bar of
// minWidth, each labelled with its duration on its right.
type phaseBars struct {
	spans []span
	text  draw.TextStyle
}

// barHeight is a bar's height in rows.
const barHeight = 0.6

// minWidth keeps an instant visible.
const minWidth = vg.Length(2)

// Plot implements plot.Plotter.
func (b phaseBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, s := range b.spans {
		x0, x1 := trX(s.start), trX(s.end)
		if x1-x0 < minWidth {
			x1 = x0 + minWidth
		}
		y0, y1 := trY(s.y-barHeight/2), trY(s.y+barHeight/2)
		c.FillPolygon(s.color, c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}))
		if s.label != "" {
			c.FillText(b.text, vg.Point{X: x1 + 3, Y: trY(s.y)}, s.label)
		}
	}
}

// DataRange implements plot.DataRanger: the bars' times, and half a row
// around the rows.
func (b phaseBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range b.spans {
		xmin, xmax = math.Min(xmin, s.start), math.Max(xmax, s.end)
		ymin, ymax = math.Min(ymin, s.y-0.5), math.Max(ymax, s.y+0.5)
	}
	return xmin, xmax, ymin, ymax
}

// vline is a vertical line across the whole panel at x.
type vline struct {
	x     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (l vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(l.x)
	if x < c.Min.X || x > c.Max.X {
		return
	}
	c.StrokeLine2(l.style, x, c.Min.Y, x, c.Max.Y)
}

// DataRange implements plot.DataRanger: x only; the empty y range leaves
// the panel's own.
func (l vline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return l.x, l.x, math.Inf(1), math.Inf(-1)
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (l vline) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(l.style, x, c.Min.Y, x, c.Max.Y)
}

// byteTicks labels an axis of byte counts in binary units.
type byteTicks struct{}

// Ticks implements plot.Ticker.
func (byteTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = humanBytes(int64(ticks[i].Value))
		}
	}
	return ticks
}

// humanBytes writes n bytes in binary units with at most one decimal:
// "0 B", "512 B", "12.3 KiB", "4 MiB".
func humanBytes(n int64) string {
	if n > -1024 && n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	for i+1 < len(units) && (v >= 1023.95 || v <= -1023.95) {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " " + units[i]
}

// textStyle is the plot's default font at size points.
func textStyle(size vg.Length, xalign draw.XAlignment) draw.TextStyle {
	return draw.TextStyle{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, size),
		Handler: plot.DefaultTextHandler,
		XAlign:  xalign,
		YAlign:  draw.YCenter,
	}
}

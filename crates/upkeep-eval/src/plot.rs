//! PNG line plots for the evaluation report.
//!
//! Deliberately tiny: a two-panel line chart rasterised into an RGB buffer with
//! an embedded 5x7 bitmap font, so the report needs no plotting or font crates,
//! only `png` for encoding.

use std::path::Path;

/// One line on a panel.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub label: &'a str,
    pub points: &'a [(f64, f64)],
    pub color: [u8; 3],
}

/// A two-panel chart sharing one x axis.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    /// Upper panel: raw signal(s), own y scale.
    pub top: Vec<Series<'a>>,
    /// Lower panel: health index / anomaly score, own y scale.
    pub bottom: Vec<Series<'a>>,
    /// Horizontal line on the lower panel (e.g. the alarm threshold), drawn dashed.
    pub threshold: Option<f64>,
    /// Vertical markers across both panels at these x values, with a label (e.g. "ticket", "failure").
    pub markers: Vec<(f64, &'a str, [u8; 3])>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("writing plot: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding plot PNG: {0}")]
    Encode(#[from] png::EncodingError),
    #[error("chart has no finite points to plot")]
    Empty,
}

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 600;
const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];
/// Neutral grey so the threshold never clashes with a caller's series colour.
const THRESHOLD_COLOR: [u8; 3] = [128, 128, 128];
/// Margins in pixels: room for y tick labels, the legend column, the title, and x labels.
const LEFT: i32 = 80;
const RIGHT: i32 = 230;
const TOP: i32 = 44;
const BOTTOM: i32 = 56;
const PANEL_GAP: i32 = 20;
/// Glyphs are drawn at 2x so labels stay legible in a 1000 px wide report.
const SCALE: i32 = 2;
/// Horizontal pen advance: 5 px glyph plus 1 px spacing, scaled.
const ADVANCE: i32 = 6 * SCALE;
const LINE_HEIGHT: i32 = 7 * SCALE;

/// 5x7 glyphs, one byte per row, bit 4 = leftmost column. Lowercase is drawn
/// with the uppercase glyph; characters not listed (including space) stay blank.
#[rustfmt::skip]
const GLYPHS: [(char, [u8; 7]); 49] = [
    ('0', [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E]), ('1', [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E]),
    ('2', [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F]), ('3', [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E]),
    ('4', [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02]), ('5', [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E]),
    ('6', [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E]), ('7', [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08]),
    ('8', [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E]), ('9', [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C]),
    ('A', [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11]), ('B', [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E]),
    ('C', [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E]), ('D', [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C]),
    ('E', [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F]), ('F', [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10]),
    ('G', [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F]), ('H', [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11]),
    ('I', [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E]), ('J', [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C]),
    ('K', [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11]), ('L', [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F]),
    ('M', [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11]), ('N', [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11]),
    ('O', [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E]), ('P', [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10]),
    ('Q', [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D]), ('R', [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11]),
    ('S', [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E]), ('T', [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04]),
    ('U', [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E]), ('V', [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04]),
    ('W', [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A]), ('X', [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11]),
    ('Y', [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04]), ('Z', [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F]),
    ('.', [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C]), (',', [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08]),
    ('-', [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00]), ('_', [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F]),
    (':', [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00]), ('/', [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00]),
    ('%', [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03]), ('(', [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02]),
    (')', [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08]), ('+', [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00]),
    ('=', [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00]), ('<', [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02]),
    ('>', [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08]),
];

/// RGB8 raster with clipped drawing, so callers never bounds-check.
struct Canvas {
    w: i32,
    h: i32,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32) -> Self {
        Canvas { w: w as i32, h: h as i32, px: WHITE.repeat(w as usize * h as usize) }
    }

    fn set(&mut self, x: i32, y: i32, c: [u8; 3]) {
        if (0..self.w).contains(&x) && (0..self.h).contains(&y) {
            let i = (y as usize * self.w as usize + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, c: [u8; 3]) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, c);
            }
        }
    }

    /// Bresenham with a 2x2 stamp: crisp 2 px lines without antialiasing.
    fn line(&mut self, (mut x0, mut y0): (i32, i32), (x1, y1): (i32, i32), c: [u8; 3]) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        loop {
            self.rect(x0, y0, 2, 2, c);
            if x0 == x1 && y0 == y1 {
                return;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x0 += sx;
            }
            if e2 <= dx {
                err += dx;
                y0 += sy;
            }
        }
    }

    /// Draws `s` with its top-left corner at (x, y).
    fn text(&mut self, x: i32, y: i32, s: &str, c: [u8; 3]) {
        for (i, ch) in s.chars().enumerate() {
            let Some((_, rows)) = GLYPHS.iter().find(|(g, _)| *g == ch.to_ascii_uppercase()) else { continue };
            for (r, bits) in (0..).zip(rows) {
                for col in (0..5).filter(|col| (bits >> (4 - col)) & 1 == 1) {
                    self.rect(x + i as i32 * ADVANCE + col * SCALE, y + r * SCALE, SCALE, SCALE, c);
                }
            }
        }
    }
}

fn text_width(s: &str) -> i32 {
    s.chars().count() as i32 * ADVANCE
}

/// A plot rectangle plus the data ranges it maps, so data and ticks share one transform.
struct Panel {
    left: i32,
    right: i32,
    top: i32,
    bottom: i32,
    x: (f64, f64),
    y: (f64, f64),
}

impl Panel {
    fn px(&self, x: f64) -> i32 {
        self.left + ((x - self.x.0) / (self.x.1 - self.x.0) * f64::from(self.right - self.left)).round() as i32
    }

    fn py(&self, y: f64) -> i32 {
        self.bottom - ((y - self.y.0) / (self.y.1 - self.y.0) * f64::from(self.bottom - self.top)).round() as i32
    }
}

/// Finite min/max widened by `margin` of the span; flat or missing data still gets
/// a non-zero span so the transforms never divide by zero.
fn range(values: impl Iterator<Item = f64>, margin: f64) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    if hi - lo == 0.0 {
        let pad = (lo.abs() * 0.05).max(1.0);
        return (lo - pad, hi + pad);
    }
    let m = (hi - lo) * margin;
    (lo - m, hi + m)
}

/// Points with both coordinates finite; anything else is a gap, not a crash.
fn finite(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

fn ys<'a>(series: &'a [Series<'a>]) -> impl Iterator<Item = f64> + 'a {
    series.iter().flat_map(|s| s.points.iter().filter(|p| finite(p)).map(|p| p.1))
}

/// Splits the canvas into the two panels; the x range also covers the markers so none fall off.
fn layout(chart: &Chart, width: u32, height: u32) -> (Panel, Panel) {
    let all = chart.top.iter().chain(&chart.bottom);
    let xs = all.flat_map(|s| s.points.iter().filter(|p| finite(p)).map(|p| p.0));
    let x = range(xs.chain(chart.markers.iter().map(|m| m.0)), 0.0);
    let (w, h) = (width as i32, height as i32);
    let half = (h - TOP - BOTTOM - PANEL_GAP) / 2;
    let top = Panel { left: LEFT, right: w - RIGHT, top: TOP, bottom: TOP + half, x, y: range(ys(&chart.top), 0.05) };
    let bottom_y = range(ys(&chart.bottom).chain(chart.threshold), 0.05);
    let bottom = Panel { top: TOP + half + PANEL_GAP, bottom: h - BOTTOM, y: bottom_y, ..top };
    (top, bottom)
}

/// "Nice" tick values (1/2/5 x 10^k steps) inside [lo, hi], and the decimals needed to print them.
fn ticks((lo, hi): (f64, f64)) -> (Vec<f64>, usize) {
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let (first, last) = ((lo / step).ceil() as i64, (hi / step).floor() as i64);
    ((first..=last).map(|i| i as f64 * step).collect(), decimals)
}

/// Frame, y ticks with labels, and x tick marks (x labels only under the lower panel).
fn draw_axes(c: &mut Canvas, p: &Panel, x_labels: bool) {
    c.rect(p.left, p.top, p.right - p.left + 2, 1, BLACK);
    c.rect(p.left, p.bottom + 1, p.right - p.left + 2, 1, BLACK);
    c.rect(p.left - 1, p.top, 1, p.bottom - p.top + 2, BLACK);
    c.rect(p.right + 2, p.top, 1, p.bottom - p.top + 2, BLACK);
    let (yt, yd) = ticks(p.y);
    for v in yt {
        let (y, label) = (p.py(v), format!("{v:.yd$}"));
        c.rect(p.left - 6, y, 5, 1, BLACK);
        c.text(p.left - 8 - text_width(&label), y - LINE_HEIGHT / 2, &label, BLACK);
    }
    let (xt, xd) = ticks(p.x);
    for v in xt {
        let (x, label) = (p.px(v), format!("{v:.xd$}"));
        c.rect(x, p.bottom + 2, 1, 5, BLACK);
        if x_labels {
            c.text(x - text_width(&label) / 2, p.bottom + 10, &label, BLACK);
        }
    }
}

/// Polyline per series; a non-finite point breaks the line so gaps in the data stay visible.
fn draw_series(c: &mut Canvas, p: &Panel, series: &[Series]) {
    for s in series {
        let mut prev = None;
        for pt in s.points {
            if !finite(pt) {
                prev = None;
                continue;
            }
            let here = (p.px(pt.0), p.py(pt.1));
            c.line(prev.unwrap_or(here), here, s.color);
            prev = Some(here);
        }
    }
}

/// Right-hand column of swatch + label rows, one per series, the threshold and each marker.
fn draw_legend(c: &mut Canvas, chart: &Chart, x: i32) {
    let series = chart.top.iter().chain(&chart.bottom).map(|s| (s.label, s.color));
    let threshold = chart.threshold.map(|_| ("threshold", THRESHOLD_COLOR));
    let markers = chart.markers.iter().map(|m| (m.1, m.2));
    for (i, (label, color)) in (0..).zip(series.chain(threshold).chain(markers)) {
        let y = TOP + i * (LINE_HEIGHT + 6);
        c.rect(x, y, LINE_HEIGHT, LINE_HEIGHT, color);
        c.text(x + LINE_HEIGHT + 6, y, label, BLACK);
    }
}

/// Rasterises the chart into `width * height` RGB8 pixels, row-major.
pub fn render(chart: &Chart, width: u32, height: u32) -> Vec<u8> {
    let mut c = Canvas::new(width, height);
    let (top, bottom) = layout(chart, width, height);
    c.text((top.left + top.right - text_width(chart.title)) / 2, 12, chart.title, BLACK);
    let x_label_x = (top.left + top.right - text_width(chart.x_label)) / 2;
    c.text(x_label_x, c.h - LINE_HEIGHT - 8, chart.x_label, BLACK);
    draw_axes(&mut c, &top, false);
    draw_axes(&mut c, &bottom, true);
    // Markers first so data lines stay readable where they cross.
    for &(x, _, color) in &chart.markers {
        c.rect(top.px(x), top.top, 2, bottom.bottom - top.top, color);
    }
    if let Some(t) = chart.threshold {
        let y = bottom.py(t);
        for x in (bottom.left..bottom.right).step_by(12) {
            c.rect(x, y, 6.min(bottom.right - x), 2, THRESHOLD_COLOR);
        }
    }
    draw_series(&mut c, &top, &chart.top);
    draw_series(&mut c, &bottom, &chart.bottom);
    draw_legend(&mut c, chart, top.right + 20);
    c.px
}

/// Renders at 1000x600 and writes an RGB PNG; a chart with no finite point is an error
/// rather than an empty-looking image in the report.
pub fn write_png(chart: &Chart, path: &Path) -> Result<(), PlotError> {
    if !chart.top.iter().chain(&chart.bottom).any(|s| s.points.iter().any(finite)) {
        return Err(PlotError::Empty);
    }
    let pixels = render(chart, WIDTH, HEIGHT);
    // Encode in memory so an I/O failure surfaces from fs::write instead of a silent BufWriter drop.
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    std::fs::write(path, bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RED: [u8; 3] = [220, 0, 0];
    const BLUE: [u8; 3] = [0, 0, 220];
    const GREEN: [u8; 3] = [0, 160, 0];

    fn chart<'a>(top: Vec<Series<'a>>, bottom: Vec<Series<'a>>) -> Chart<'a> {
        Chart { title: "Pump 7", x_label: "hours", top, bottom, threshold: None, markers: vec![] }
    }

    fn pixel(px: &[u8], x: i32, y: i32) -> [u8; 3] {
        let i = (y as usize * WIDTH as usize + x as usize) * 3;
        [px[i], px[i + 1], px[i + 2]]
    }

    #[test]
    fn horizontal_line_maps_to_row_of_series_color() {
        let ramp = [(0.0, 0.0), (10.0, 10.0)];
        let flat = [(0.0, 5.0), (10.0, 5.0)];
        let c = chart(
            vec![
                Series { label: "ramp", points: &ramp, color: BLUE },
                Series { label: "flat", points: &flat, color: RED },
            ],
            vec![],
        );
        let px = render(&c, WIDTH, HEIGHT);
        let (top, _) = layout(&c, WIDTH, HEIGHT);
        let y = top.py(5.0);
        assert!((top.px(0.0)..=top.px(10.0)).all(|x| pixel(&px, x, y) == RED));
        assert_eq!(pixel(&px, top.px(0.0), top.py(0.0)), BLUE);
    }

    #[test]
    fn flat_series_is_centred_in_its_panel() {
        let flat = [(0.0, 3.0), (10.0, 3.0)];
        let c = chart(vec![], vec![Series { label: "hi", points: &flat, color: RED }]);
        let px = render(&c, WIDTH, HEIGHT);
        let (_, bottom) = layout(&c, WIDTH, HEIGHT);
        let mid = (bottom.top + bottom.bottom) / 2;
        assert!((mid - 1..=mid + 1).any(|y| pixel(&px, bottom.px(5.0), y) == RED));
    }

    #[test]
    fn threshold_is_a_dashed_row() {
        let score = [(0.0, 0.0), (10.0, 1.0)];
        let mut c = chart(vec![], vec![Series { label: "score", points: &score, color: RED }]);
        c.threshold = Some(0.5);
        let px = render(&c, WIDTH, HEIGHT);
        let (_, bottom) = layout(&c, WIDTH, HEIGHT);
        let row: Vec<_> = (bottom.left..bottom.right).map(|x| pixel(&px, x, bottom.py(0.5))).collect();
        assert!(row.iter().filter(|p| **p == THRESHOLD_COLOR).count() > 100);
        assert!(row.contains(&WHITE), "dashed, not solid");
    }

    #[test]
    fn marker_is_a_vertical_run_across_both_panels() {
        let sig = [(0.0, 1.0), (10.0, 2.0)];
        let mut c = chart(vec![Series { label: "temp", points: &sig, color: RED }], vec![]);
        c.markers = vec![(5.0, "ticket", GREEN)];
        let px = render(&c, WIDTH, HEIGHT);
        let (top, bottom) = layout(&c, WIDTH, HEIGHT);
        let run = (top.top..bottom.bottom).filter(|&y| pixel(&px, top.px(5.0), y) == GREEN).count() as i32;
        assert!(run > (bottom.bottom - top.top) * 9 / 10, "run {run}");
    }

    #[test]
    fn nan_points_are_skipped_as_a_gap() {
        let pts = [(0.0, 0.0), (1.0, 1.0), (2.0, f64::NAN), (f64::NAN, 9.0), (3.0, 3.0), (4.0, 4.0)];
        let c = chart(vec![Series { label: "raw", points: &pts, color: RED }], vec![]);
        let px = render(&c, WIDTH, HEIGHT);
        let (top, _) = layout(&c, WIDTH, HEIGHT);
        assert_eq!(pixel(&px, top.px(0.5), top.py(0.5)), RED);
        assert_eq!(pixel(&px, top.px(3.5), top.py(3.5)), RED);
        assert_eq!(pixel(&px, top.px(2.0), top.py(2.0)), WHITE);
    }

    #[test]
    fn chart_without_finite_points_is_empty() {
        let nan = [(f64::NAN, 1.0)];
        let c = chart(
            vec![Series { label: "raw", points: &[], color: RED }],
            vec![Series { label: "hi", points: &nan, color: BLUE }],
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        assert!(matches!(write_png(&c, &path), Err(PlotError::Empty)));
        assert!(!path.exists());
    }

    #[test]
    fn ticks_use_round_steps() {
        assert_eq!(ticks((0.0, 10.0)), (vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 0));
        assert_eq!(ticks((0.0, 1.0)).1, 1);
    }

    #[test]
    fn write_png_round_trips_through_decoder() {
        let sig = [(0.0, 1.0), (5.0, f64::NAN), (10.0, 2.0)];
        let mut c = chart(vec![Series { label: "vibration (mm/s)", points: &sig, color: RED }], vec![]);
        c.markers = vec![(7.0, "failure", GREEN)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.png");
        write_png(&c, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]));
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (WIDTH, HEIGHT));
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        assert_eq!(buf, render(&c, WIDTH, HEIGHT));
    }
}

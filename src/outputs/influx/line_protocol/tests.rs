use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn line(p: &Point, precision: Precision) -> Result<String, EncodeError> {
    let mut out = String::new();
    p.encode(precision, &mut out).map(|()| out)
}

#[test]
fn a_plain_point_is_measurement_tags_fields_and_time() {
    let p = Point::new("telemetry", 1_700_000_000_123)
        .tag("site", "Lyon")
        .tag("asset", "PMP-001")
        .field("value", FieldValue::Float(2.0))
        .field("count", FieldValue::Int(-3))
        .field("open", FieldValue::Bool(true))
        .field("fault", FieldValue::Str("seal leak".into()));
    assert_eq!(
        line(&p, Precision::Ms).unwrap(),
        "telemetry,asset=PMP-001,site=Lyon value=2.0,count=-3i,open=true,fault=\"seal leak\" 1700000000123\n"
    );
    assert!(line(&p, Precision::Ns).unwrap().ends_with(" 1700000000123000000\n"));
}

#[test]
fn names_and_strings_are_escaped() {
    let p = Point::new("my meas,x", 1)
        .tag("tag key=1", "a,b c=d")
        .tag("path", r"C:\dir")
        .field("field,key", FieldValue::Str(r#"say "hi" \o/ x\"#.into()));
    assert_eq!(
        line(&p, Precision::Ms).unwrap(),
        r#"my\ meas\,x,path=C:\dir,tag\ key\=1=a\,b\ c\=d field\,key="say \"hi\" \\o/ x\\" 1"#.to_owned() + "\n"
    );
    // A backslash before a separator, another backslash or the end has no
    // spelling every server version reads the same.
    for name in [r"dir\", r"a\\b", r"x\,y", r"x\ y"] {
        let p = Point::new("m", 1).tag("k", name).field("v", FieldValue::Int(1));
        assert_eq!(line(&p, Precision::Ms), Err(EncodeError::Backslash("m".into())), "{name}");
    }
    // An equals sign needs no escape in a measurement; a quote none in a tag.
    let p = Point::new("a=b", 1).tag("q", "\"x\"").field("v", FieldValue::Int(1));
    assert_eq!(line(&p, Precision::Ms).unwrap(), "a=b,q=\"x\" v=1i 1\n");
}

#[test]
fn non_finite_values_and_empty_tags_are_left_out_not_the_point() {
    let p = Point::new("m", 5)
        .tag("empty", "")
        .tag("k", "v")
        .field("nan", FieldValue::Float(f64::NAN))
        .field("inf", FieldValue::Float(f64::INFINITY))
        .field("ok", FieldValue::Float(0.5));
    assert_eq!(line(&p, Precision::Ms).unwrap(), "m,k=v ok=0.5 5\n");
    let only_nan = Point::new("m", 5).field("nan", FieldValue::Float(f64::NAN));
    assert_eq!(line(&only_nan, Precision::Ms), Err(EncodeError::NoFields("m".into())));
    assert_eq!(
        line(&Point::new("", 1).field("v", FieldValue::Int(1)), Precision::Ms),
        Err(EncodeError::EmptyMeasurement)
    );
    let broken = Point::new("m", 1).tag("k", "two\nlines").field("v", FieldValue::Int(1));
    assert!(matches!(line(&broken, Precision::Ms), Err(EncodeError::LineBreak(_))));
    // A failed point leaves the buffer as it was.
    let mut out = String::from("before\n");
    assert!(only_nan.encode(Precision::Ms, &mut out).is_err());
    assert_eq!(out, "before\n");
}

#[test]
fn floats_keep_their_type_and_precision() {
    for (v, text) in
        [(1.0, "1.0"), (-0.25, "-0.25"), (1e21, "1e21"), (1.5e-7, "1.5e-7"), (0.1 + 0.2, "0.30000000000000004")]
    {
        let p = Point::new("m", 0).field("v", FieldValue::Float(v));
        assert_eq!(line(&p, Precision::Ms).unwrap(), format!("m v={text} 0\n"));
    }
}

/// Reads a name up to an unescaped terminator; returns it and the rest
/// (starting at the terminator). A backslash escapes a following comma,
/// equals sign or space and is itself otherwise (InfluxDB 1.x's reading).
fn read_name<'a>(s: &'a str, stops: &[char]) -> (String, &'a str) {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|(_, n)| KEY_SPECIALS.contains(n)) {
            out.push(chars.next().expect("peeked").1);
        } else if stops.contains(&c) {
            return (out, &s[i..]);
        } else {
            out.push(c);
        }
    }
    (out, "")
}

fn read_value(s: &str) -> (FieldValue, &str) {
    if let Some(rest) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => out.push(chars.next().expect("escape at end of string").1),
                '"' => return (FieldValue::Str(out), &rest[i + 1..]),
                _ => out.push(c),
            }
        }
        panic!("unterminated string");
    }
    let end = s.find([',', ' ']).unwrap_or(s.len());
    let v = match &s[..end] {
        "true" => FieldValue::Bool(true),
        "false" => FieldValue::Bool(false),
        t if t.ends_with('i') => FieldValue::Int(t[..t.len() - 1].parse().expect("integer")),
        t => FieldValue::Float(t.parse().expect("float")),
    };
    (v, &s[end..])
}

/// A line-protocol reader for the tests (the grammar of the reference).
fn parse(line: &str) -> Point {
    let line = line.strip_suffix('\n').expect("one line");
    let (measurement, mut rest) = read_name(line, &[',', ' ']);
    let mut p = Point::new(measurement, 0);
    while let Some(r) = rest.strip_prefix(',') {
        let (k, r) = read_name(r, &['=']);
        let (v, r) = read_name(&r[1..], &[',', ' ']);
        p.tags.push((k.into(), v.into()));
        rest = r;
    }
    rest = &rest[1..];
    loop {
        let (k, r) = read_name(rest, &['=']);
        let (v, r) = read_value(&r[1..]);
        p.fields.push((k.into(), v));
        match r.strip_prefix(',') {
            Some(r) => rest = r,
            None => {
                p.time = r.trim_start().parse().expect("timestamp");
                return p;
            }
        }
    }
}

fn random_text(rng: &mut StdRng, min: usize) -> String {
    const ALPHABET: &[char] = &['a', 'Z', '0', '_', ' ', ',', '=', '"', '\\', 'é', '-', '.'];
    let len = min + rng.random_range(0..6);
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())]).collect()
}

fn random_value(rng: &mut StdRng) -> FieldValue {
    match rng.random_range(0..4) {
        0 => FieldValue::Float(f64::from_bits(rng.random())),
        1 => FieldValue::Int(rng.random()),
        2 => FieldValue::Bool(rng.random()),
        _ => FieldValue::Str(random_text(rng, 0)),
    }
}

/// What a reader gets back: tags sorted, empty ones and non-finite fields gone.
fn normalised(p: &Point) -> Point {
    let mut tags: Vec<_> = p.tags.iter().filter(|(k, v)| !k.is_empty() && !v.is_empty()).cloned().collect();
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    let fields =
        p.fields.iter().filter(|(k, v)| !k.is_empty() && !matches!(v, FieldValue::Float(f) if !f.is_finite())).cloned();
    Point { tags, fields: fields.collect(), ..p.clone() }
}

#[test]
fn random_points_parse_back_to_what_was_encoded() {
    let mut rng = StdRng::seed_from_u64(42);
    let (mut encoded, mut backslashed) = (0, 0);
    for _ in 0..3000 {
        let mut p = Point::new(random_text(&mut rng, 1), rng.random_range(0..1 << 45));
        for _ in 0..rng.random_range(0..4) {
            p.tags.push((random_text(&mut rng, 0).into(), random_text(&mut rng, 0).into()));
        }
        // Distinct tag keys, as a point has.
        p.tags.dedup_by(|a, b| a.0 == b.0);
        p.tags.sort_by(|a, b| a.0.cmp(&b.0));
        p.tags.dedup_by(|a, b| a.0 == b.0);
        for _ in 0..rng.random_range(1..5) {
            p.fields.push((random_text(&mut rng, 0).into(), random_value(&mut rng)));
        }
        match line(&p, Precision::Ms) {
            Ok(text) => {
                assert_eq!(text.matches('\n').count(), 1, "{text}");
                assert_eq!(parse(&text), normalised(&p), "{text}");
                encoded += 1;
            }
            Err(EncodeError::NoFields(_)) => assert!(normalised(&p).fields.is_empty()),
            Err(EncodeError::Backslash(_)) => backslashed += 1,
            Err(e) => panic!("{e} for {p:?}"),
        }
    }
    assert!(encoded > 1000 && backslashed > 0, "{encoded} encoded, {backslashed} refused");
}

//! Differential tests of `powersync_diff` against the reference: thousands of random JSON
//! object pairs (nested values, every number form, unicode, nulls, duplicate keys), the spec
//! examples and the error cases.
use crate::common;

use powersync_testkit::crud::{run_with, same};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Writes random JSON text: the generator works on text so that number spellings, escapes,
/// whitespace and duplicate keys reach the parser as written.
struct Gen {
    rng: StdRng,
}

const KEYS: &[&str] = &[
    "a", "b", "c", "id", "name", "z", "é", "\\u00e9", "\\\"q", "k\\n", "😀", "A", "aa", "",
];

impl Gen {
    fn number(&mut self) -> String {
        let r = &mut self.rng;
        match r.random_range(0..22) {
            0 => r.random_range(-10..10).to_string(),
            1 => r.random::<i64>().to_string(),
            2 => r.random::<u64>().to_string(),
            3 => format!("{}", r.random::<f64>() * 10f64.powi(r.random_range(-30..30))),
            4 => format!("{:e}", r.random::<f64>() * 10f64.powi(r.random_range(-300..300))),
            5 => "-0.0".into(),
            6 => "-0".into(),
            7 => "0.0".into(),
            8 => [
                "1.0", "1.00", "1", "1e0", "10e-1", "0.1e1", "100", "1e2", "1E2", "1e+2",
            ][r.random_range(0..10)]
            .into(),
            9 => "18446744073709551615".into(),
            10 => "18446744073709551616".into(),
            11 => "-9223372036854775808".into(),
            12 => "-9223372036854775809".into(),
            13 => "123456789012345678901234567890".into(),
            14 => format!("{}.{}", r.random::<u32>(), r.random::<u64>()),
            15 => {
                // Long mantissas: where correctly rounded and fast float parsing differ.
                let digits: String = (0..r.random_range(15..40))
                    .map(|_| char::from(b'0' + r.random_range(0..10)))
                    .collect();
                format!("0.{digits}e{}", r.random_range(-320..310))
            }
            16 => [
                "1e16",
                "1e15",
                "1e-5",
                "1e-6",
                "0.00001",
                "1e-7",
                "1.5e300",
                "2.2250738585072014e-308",
                "5e-324",
                "1.7976931348623157e308",
            ][r.random_range(0..10)]
            .into(),
            17 => format!("{}", r.random::<f32>()),
            18 => format!("{}e{}", r.random_range(1..999999), r.random_range(-25..25)),
            19 => format!("-{}", r.random_range(0..1000) as f64 / 8.0),
            20 => format!("9007199254740993{}", ["", ".0", "e0"][r.random_range(0..3)]),
            _ => format!("{}", r.random::<f64>()),
        }
    }

    fn string(&mut self) -> String {
        let r = &mut self.rng;
        let parts = [
            "x",
            "y",
            "hello",
            "é",
            "\\u00e9",
            "\\n",
            "\\t",
            "\\\"",
            "\\\\",
            "\\/",
            "😀",
            "\\ud83d\\ude00",
            "\\u0000",
            "\\u001f",
            " ",
            "日本",
            "{\\\"k\\\":1}",
            "\u{7f}",
        ];
        let s: String = (0..r.random_range(0..4))
            .map(|_| parts[r.random_range(0..parts.len())])
            .collect();
        format!("\"{s}\"")
    }

    fn value(&mut self, depth: u32) -> String {
        let pick = self.rng.random_range(0..if depth > 2 { 6 } else { 8 });
        match pick {
            0 => "null".into(),
            1 => ["true", "false"][self.rng.random_range(0..2)].into(),
            2 | 3 => self.number(),
            4 | 5 => self.string(),
            6 => {
                let n = self.rng.random_range(0..4);
                let items: Vec<String> = (0..n).map(|_| self.value(depth + 1)).collect();
                format!("[{}]", items.join(","))
            }
            _ => self.object(depth + 1),
        }
    }

    fn object(&mut self, depth: u32) -> String {
        let n = self.rng.random_range(0..6);
        let ws = [" ", "", "\n"][self.rng.random_range(0..3)];
        let entries: Vec<String> = (0..n)
            .map(|_| {
                let key = KEYS[self.rng.random_range(0..KEYS.len())];
                format!("\"{key}\":{ws}{}", self.value(depth))
            })
            .collect();
        format!("{{{}}}", entries.join(&format!(",{ws}")))
    }

    /// A "new" object derived from `old`'s text by re-generating some entries, so that pairs
    /// share keys and values often.
    fn pair(&mut self) -> (String, String) {
        let old = self.object(0);
        let new = match self.rng.random_range(0..4) {
            0 => self.object(0),
            1 => old.clone(),
            _ => {
                let extra = self.object(0);
                if extra.len() > 2 && old.len() > 2 {
                    format!("{},{}", &old[..old.len() - 1], &extra[1..])
                } else {
                    extra
                }
            }
        };
        if self.rng.random_bool(0.5) {
            (old, new)
        } else {
            (new, old)
        }
    }
}

#[test]
fn random_pairs_match_reference() {
    let (ours, reference) = common::both("reference");
    let mut gen = Gen {
        rng: StdRng::seed_from_u64(0x5eed_d1ff),
    };
    let sql = "SELECT powersync_diff(?1, ?2), typeof(powersync_diff(?1, ?2))";
    let mut cases = 0;
    let mut errors = 0;
    for _ in 0..6000 {
        let (old, new) = gen.pair();
        let a = run_with(&ours, sql, (&old, &new));
        let b = reference.ask("run_with", &format!("{} {:?}", sql, (&old, &new)), |c| {
            run_with(c, sql, (&old, &new))
        });
        assert_eq!(a, b, "powersync_diff({old:?}, {new:?})");
        errors += usize::from(a.is_err());
        cases += 1;
    }
    // The generator must exercise both results and errors (out-of-range numbers).
    assert!(errors > 0 && errors < cases / 2, "{errors} errors in {cases}");
    common::report("util_diff::random_pairs", cases);
}

#[test]
fn fixed_cases_and_errors_match_reference() {
    let (ours, reference) = common::both("reference");
    let cases = [
        "SELECT powersync_diff('{}', '{\"test\":1}')",
        "SELECT powersync_diff('{\"test\":1}', '{}')",
        "SELECT powersync_diff('{\"a\":1}', '{\"a\":1.0}')",
        "SELECT powersync_diff('{\"a\":1.00}', '{\"a\":1.0}')",
        "SELECT powersync_diff('{\"b\":2,\"a\":1}', '{\"z\":1,\"a\":2,\"c\":3}')",
        "SELECT powersync_diff('{\"a\":0,\"b\":1}', '{\"a\":null,\"b\":2}')",
        "SELECT powersync_diff('{\"a\":\"x\"}', '{\"a\":\"x\",\"b\":null}')",
        "SELECT powersync_diff('{\"a\":1e400}', '{}')",
        "SELECT powersync_diff('{}', '{\"a\":-1e400}')",
        "SELECT powersync_diff('{}', '{\"a\":[1e400]}')",
        "SELECT powersync_diff('{\"a\":1,\"a\":2}', '{\"a\":2}')",
        "SELECT powersync_diff('{\"a\":{\"x\":1,\"y\":2}}', '{\"a\":{\"y\":2,\"x\":1}}')",
        "SELECT powersync_diff('{\"a\":true}', '{\"a\":1}')",
        "SELECT powersync_diff('{\"a\":\"\\u00e9\"}', '{\"a\":\"é\"}')",
        "SELECT powersync_diff('{\"a\":-0.0}', '{\"a\":0.0}')",
        "SELECT powersync_diff('{}', '{\"a\":-0.0,\"b\":1e16,\"c\":1e15,\"d\":1e-5,\"e\":1e-7,\"f\":123456789012345678901}')",
        "SELECT powersync_diff('{}', '[]')",
        "SELECT powersync_diff('[]', '{}')",
        "SELECT powersync_diff('1', '2')",
        "SELECT powersync_diff('{}', 'not json')",
        "SELECT powersync_diff('not json', '{}')",
        "SELECT powersync_diff('x', 'y')",
        "SELECT powersync_diff('[]', 'y')",
        "SELECT powersync_diff(NULL, '{}')",
        "SELECT powersync_diff('{}', NULL)",
        "SELECT powersync_diff(NULL, NULL)",
        "SELECT powersync_diff('{}', '{} x')",
        "SELECT powersync_diff('{}', ' {\"a\" : 1 } ')",
        "SELECT powersync_diff(1, '{}')",
        "SELECT powersync_diff('{}', 1.5)",
        "SELECT powersync_diff(x'7b7d', x'7b2261223a317d')",
        "SELECT powersync_diff('{}', '{\"a\":\"\\ud800\"}')",
        "SELECT powersync_diff('{}', '{\"a\":1,}')",
        "SELECT powersync_diff('{', '{}')",
        "SELECT powersync_diff()",
        "SELECT powersync_diff('{}')",
        "SELECT json_object('d', powersync_diff('{}', '{\"a\":[1]}'))",
        "SELECT json_object('d', json(powersync_diff('{}', '{\"a\":[1]}')))",
    ];
    for sql in cases {
        same(&ours, &reference, sql);
    }
    common::report("util_diff::fixed", cases.len());
}

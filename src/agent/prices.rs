//! The API's list prices per model, to turn a worker's token counts into dollars. Taken from
//! the model catalogue of the Claude Code release the worker image was verified with
//! (2.1.332: its `pricing_tiers`, which `/cost` uses); a model missing here is counted in
//! tokens and its cost is reported unknown rather than guessed. Rates that depend on one
//! message's size (Haiku 5.5's above 100k prompt tokens) are not applied: the file sums
//! messages.
//!
//! The worker's usage file (`claude-worker/agent-usage.sh`) gives, per model, the tokens of
//! each kind summed over every message of every transcript.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::usage::AgentUsage;

/// One model's tokens as the worker's usage file sums them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct ModelTokens {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
    #[serde(default)]
    pub cache_read: u64,
    #[serde(default)]
    pub cache_write_5m: u64,
    #[serde(default)]
    pub cache_write_1h: u64,
}

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Price {
    input: f64,
    output: f64,
    cache_write_5m: f64,
    cache_write_1h: f64,
    cache_read: f64,
}

const fn tier(input: f64, output: f64, cache_read: f64) -> Price {
    // Writing the cache costs 1.25 times the input price for five minutes and twice for an
    // hour, in every tier of the catalogue; reading it varies by tier.
    Price {
        input,
        output,
        cache_write_5m: input * 1.25,
        cache_write_1h: input * 2.0,
        cache_read,
    }
}

/// Model ids (without a date suffix) and their prices.
const PRICES: &[(&str, Price)] = &[
    ("claude-3-5-haiku", tier(0.8, 4.0, 0.08)),
    ("claude-3-5-sonnet", tier(3.0, 15.0, 0.3)),
    ("claude-3-7-sonnet", tier(3.0, 15.0, 0.3)),
    ("claude-haiku-4-5", tier(1.0, 5.0, 0.1)),
    ("claude-haiku-5-5", tier(0.1, 0.5, 0.01)),
    ("claude-sonnet-4-0", tier(3.0, 15.0, 0.3)),
    ("claude-sonnet-4-5", tier(3.0, 15.0, 0.3)),
    ("claude-sonnet-4-6", tier(3.0, 15.0, 0.3)),
    ("claude-sonnet-5", tier(2.0, 10.0, 0.2)),
    ("claude-sonnet-5-5", tier(2.0, 10.0, 0.1)),
    ("claude-opus-4-0", tier(15.0, 75.0, 1.5)),
    ("claude-opus-4-1", tier(15.0, 75.0, 1.5)),
    ("claude-opus-4-5", tier(5.0, 25.0, 0.5)),
    ("claude-opus-4-6", tier(5.0, 25.0, 0.5)),
    ("claude-opus-4-7", tier(5.0, 25.0, 0.5)),
    ("claude-opus-4-8", tier(5.0, 25.0, 0.5)),
    ("claude-opus-5", tier(5.0, 25.0, 0.5)),
    ("claude-opus-5-5", tier(4.0, 20.0, 0.2)),
    ("claude-fable-5", tier(10.0, 50.0, 1.0)),
    ("claude-fable-5-1", tier(10.0, 50.0, 0.25)),
    ("claude-fable-5-2", tier(8.0, 40.0, 0.2)),
    ("claude-mythos-5", tier(10.0, 50.0, 1.0)),
    ("claude-mythos-5-1", tier(10.0, 50.0, 0.25)),
    ("claude-mythos-5-2", tier(8.0, 40.0, 0.2)),
];

/// Aliases Claude Code and the API also answer with.
const ALIASES: [(&str, &str); 2] = [
    ("claude-sonnet-4", "claude-sonnet-4-0"),
    ("claude-opus-4", "claude-opus-4-0"),
];

/// The price of `model`: its id as the API reports it, maybe with a date (`-20250929`) or
/// a context suffix (`[1m]`).
fn price(model: &str) -> Option<Price> {
    let model = model.split('[').next().unwrap_or(model);
    let undated = match model.rsplit_once('-') {
        Some((head, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => model,
    };
    let id = ALIASES
        .iter()
        .find(|(alias, _)| *alias == undated)
        .map_or(undated, |(_, id)| *id);
    PRICES.iter().find(|(name, _)| *name == id).map(|(_, p)| *p)
}

/// The usage of a worker from its per-model token sums (summed in the models' order, so that
/// the same file always gives the same cost).
pub fn usage_of(models: &BTreeMap<String, ModelTokens>) -> AgentUsage {
    let mut usage = AgentUsage {
        cost_usd: Some(0.0),
        ..Default::default()
    };
    for (model, t) in models {
        // The worker writes these numbers: they add up without overflowing.
        usage.input_tokens = usage.input_tokens.saturating_add(t.input);
        usage.output_tokens = usage.output_tokens.saturating_add(t.output);
        usage.cache_read_tokens = usage.cache_read_tokens.saturating_add(t.cache_read);
        usage.cache_write_tokens = usage
            .cache_write_tokens
            .saturating_add(t.cache_write_5m.saturating_add(t.cache_write_1h));
        let cost = price(model).map(|p| {
            (t.input as f64 * p.input
                + t.output as f64 * p.output
                + t.cache_read as f64 * p.cache_read
                + t.cache_write_5m as f64 * p.cache_write_5m
                + t.cache_write_1h as f64 * p.cache_write_1h)
                / 1e6
        });
        usage.cost_usd = usage.cost_usd.zip(cost).map(|(a, b)| a + b);
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: u64, output: u64) -> ModelTokens {
        ModelTokens {
            input,
            output,
            ..Default::default()
        }
    }

    #[test]
    fn each_kind_of_token_has_its_price() {
        let models = BTreeMap::from([(
            "claude-sonnet-4-5-20250929".to_owned(),
            ModelTokens {
                input: 1_000_000,
                output: 1_000_000,
                cache_read: 1_000_000,
                cache_write_5m: 1_000_000,
                cache_write_1h: 1_000_000,
            },
        )]);
        let usage = usage_of(&models);
        // 3 + 15 + 0.3 + 3.75 + 6 dollars.
        assert!((usage.cost_usd.unwrap() - 28.05).abs() < 1e-9, "{usage:?}");
        assert_eq!(usage.cache_write_tokens, 2_000_000);
    }

    #[test]
    fn models_are_known_with_their_suffixes_and_aliases() {
        for model in [
            "claude-opus-5-5",
            "claude-opus-4-20250514",
            "claude-sonnet-4-5[1m]",
            "claude-haiku-4-5-20251001",
        ] {
            assert!(price(model).is_some(), "{model}");
        }
        assert_eq!(price("claude-opus-4"), price("claude-opus-4-0"));
        assert_eq!(price("gpt-4"), None);
    }

    #[test]
    fn numbers_a_worker_makes_up_do_not_overflow() {
        let models = BTreeMap::from([
            ("claude-opus-5-5".to_owned(), tokens(u64::MAX, u64::MAX)),
            ("claude-sonnet-5".to_owned(), tokens(u64::MAX, 1)),
        ]);
        let usage = usage_of(&models);
        assert_eq!(usage.input_tokens, u64::MAX);
        assert_eq!(usage.tokens(), u64::MAX);
        assert!(usage.cost_usd.unwrap().is_finite());
    }

    #[test]
    fn an_unknown_model_leaves_the_cost_unknown_but_counts_its_tokens() {
        let models = BTreeMap::from([
            ("claude-opus-5-5".to_owned(), tokens(120, 12)),
            ("a-model-from-next-year".to_owned(), tokens(100, 10)),
        ]);
        let usage = usage_of(&models);
        assert_eq!((usage.input_tokens, usage.output_tokens), (220, 22));
        assert_eq!(usage.cost_usd, None);
        let known = BTreeMap::from([("claude-opus-5-5".to_owned(), tokens(120, 12))]);
        // 120 × $4 + 12 × $20 per million.
        let cost = usage_of(&known).cost_usd.unwrap();
        assert!((cost - 0.00072).abs() < 1e-12, "{cost}");
    }
}

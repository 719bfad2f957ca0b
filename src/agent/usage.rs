//! What a worker's Claude Code has spent: tokens by kind and their cost in US dollars, read
//! from Claude Code's own transcripts (the usage the API reported for each message), summed
//! in the worker by `claude-worker/agent-usage.sh`. Shared with the WASM front end, which
//! shows it on cards and tiles and sums it for the farm.

use serde::{Deserialize, Serialize};

/// Tokens and cost of one worker's agent (all its conversations), or of the farm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Prompt tokens read from the cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the cache (five-minute and one-hour).
    pub cache_write_tokens: u64,
    /// What those tokens cost at the API's list prices; `None` when some came from a model
    /// the farm has no price for (the tokens are still counted).
    pub cost_usd: Option<f64>,
}

impl AgentUsage {
    /// Every kind of token together.
    pub fn tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.output_tokens)
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.cache_write_tokens)
    }

    /// The sum of several (a farm's workers); its cost is known only when each one's is.
    pub fn total<'a>(all: impl IntoIterator<Item = &'a AgentUsage>) -> AgentUsage {
        let none = AgentUsage {
            cost_usd: Some(0.0),
            ..Default::default()
        };
        all.into_iter().fold(none, |sum, u| AgentUsage {
            input_tokens: sum.input_tokens.saturating_add(u.input_tokens),
            output_tokens: sum.output_tokens.saturating_add(u.output_tokens),
            cache_read_tokens: sum.cache_read_tokens.saturating_add(u.cache_read_tokens),
            cache_write_tokens: sum.cache_write_tokens.saturating_add(u.cache_write_tokens),
            cost_usd: sum.cost_usd.zip(u.cost_usd).map(|(a, b)| a + b),
        })
    }

    /// `12.3k tokens · $0.42`, as a card shows it.
    pub fn summary(&self) -> String {
        let tokens = format!("{} tokens", short_count(self.tokens()));
        match self.cost_usd {
            Some(cost) => format!("{tokens} · {}", dollars(cost)),
            None => tokens,
        }
    }

    /// Each kind of token, for a tooltip.
    pub fn detail(&self) -> String {
        let cost = match self.cost_usd {
            Some(_) => "at the API's list prices",
            None => "cost unknown: a model the farm has no price for",
        };
        format!(
            "{} input, {} output, {} read from and {} written to the cache; {cost}",
            self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens
        )
    }
}

/// `950`, `12.3k`, `4.5M`.
fn short_count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        // 999,950 and up would round to "1000.0k".
        1_000..999_950 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// `$0.42`; amounts under a cent keep two significant digits (`$0.0036`).
fn dollars(amount: f64) -> String {
    if amount > 0.0 && amount < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cost: Option<f64>) -> AgentUsage {
        AgentUsage {
            input_tokens: input,
            output_tokens: output,
            cost_usd: cost,
            ..Default::default()
        }
    }

    #[test]
    fn summaries_read_at_a_glance() {
        assert_eq!(
            usage(120, 12, Some(0.0036)).summary(),
            "132 tokens · $0.0036"
        );
        assert_eq!(
            usage(12_000, 345, Some(0.42)).summary(),
            "12.3k tokens · $0.42"
        );
        assert_eq!(usage(4_500_000, 0, None).summary(), "4.5M tokens");
        assert_eq!(usage(999_949, 0, None).summary(), "999.9k tokens");
        assert_eq!(usage(999_950, 0, None).summary(), "1.0M tokens");
    }

    #[test]
    fn the_farm_total_knows_its_cost_only_when_each_worker_does() {
        let a = usage(100, 10, Some(0.5));
        let b = usage(200, 20, Some(0.25));
        let total = AgentUsage::total([&a, &b]);
        assert_eq!((total.input_tokens, total.output_tokens), (300, 30));
        assert_eq!(total.cost_usd, Some(0.75));
        let unknown = usage(1, 1, None);
        assert_eq!(AgentUsage::total([&a, &unknown]).cost_usd, None);
        assert_eq!(AgentUsage::total([]).cost_usd, Some(0.0));
    }
}

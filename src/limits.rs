//! How much of the machine one worker may use. The farm sets what a worker gets unless its
//! request asks otherwise, and the most any worker may ask for; Docker enforces the result.
//! Shared with the browser, which shows a worker's limits.

use serde::{Deserialize, Serialize};

use crate::agent::usage::AgentUsage;
use crate::worker::InvalidInput;

/// Less memory than this and Claude Code (~260 MB) cannot run at all.
pub const MIN_MEMORY_MB: u32 = 256;
/// A tenth of a core: slow, but it runs.
pub const MIN_CPUS: f64 = 0.1;

/// Resources one worker may use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory in MiB; the container is killed (OOM) beyond it.
    pub memory_mb: u32,
    /// CPU time in cores.
    pub cpus: f64,
}

/// The farm's rules: what a worker gets unless it asks, and the most it may ask for.
#[derive(Debug, Clone, Copy)]
pub struct LimitRules {
    pub default: Limits,
    pub max: Limits,
}

impl LimitRules {
    /// The defaults must be limits a worker could ask for; said at start, not at the first
    /// create.
    pub fn check(&self) -> Result<(), InvalidInput> {
        self.resolve(None, None).map(|_| ()).map_err(|e| {
            InvalidInput(format!(
                "WORKER_MEMORY_MB and WORKER_CPUS must fit the caps: {}",
                e.0
            ))
        })
    }

    /// The limits of a new worker: the request's, or the farm's defaults, within the caps.
    pub fn resolve(
        &self,
        memory_mb: Option<u32>,
        cpus: Option<f64>,
    ) -> Result<Limits, InvalidInput> {
        let memory_mb = memory_mb.unwrap_or(self.default.memory_mb);
        let cpus = cpus.unwrap_or(self.default.cpus);
        if !(MIN_MEMORY_MB..=self.max.memory_mb).contains(&memory_mb) {
            return Err(InvalidInput(format!(
                "memory_mb must be between {MIN_MEMORY_MB} and {} (the farm's cap, WORKER_MEMORY_MAX_MB), not {memory_mb}",
                self.max.memory_mb
            )));
        }
        if !cpus.is_finite() || !(MIN_CPUS..=self.max.cpus).contains(&cpus) {
            return Err(InvalidInput(format!(
                "cpus must be between {MIN_CPUS} and {} (the farm's cap, WORKER_CPUS_MAX), not {cpus}",
                self.max.cpus
            )));
        }
        Ok(Limits { memory_mb, cpus })
    }
}

/// How much of the farm is taken: what the dashboard shows above its workers, and what
/// `GET /api/farm` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarmUse {
    /// Tokens and cost of the running workers' Claude Code conversations together.
    pub claude: AgentUsage,
    pub workers: usize,
    pub max_workers: usize,
    /// The sum of every worker's memory limit, in MiB.
    pub memory_given_mb: u64,
    /// FARM_MEMORY_BUDGET_MB, or what the dashboard chose from the machine's memory.
    pub memory_budget_mb: u64,
    /// What a worker gets unless it asks for more or less.
    pub default_limits: Limits,
}

impl FarmUse {
    pub fn memory_free_mb(&self) -> u64 {
        self.memory_budget_mb.saturating_sub(self.memory_given_mb)
    }

    /// Why a worker with the default limits would be refused now, if it would.
    pub fn refusal(&self) -> Option<String> {
        if self.workers >= self.max_workers {
            return Some(format!(
                "the farm is full ({} workers): delete a worker first",
                self.max_workers
            ));
        }
        let asked = u64::from(self.default_limits.memory_mb);
        (asked > self.memory_free_mb()).then(|| {
            format!(
                "not enough memory in the farm's budget: a worker takes {asked} MiB, {} MiB of {} MiB are free",
                self.memory_free_mb(),
                self.memory_budget_mb
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: LimitRules = LimitRules {
        default: Limits {
            memory_mb: 2048,
            cpus: 2.0,
        },
        max: Limits {
            memory_mb: 4096,
            cpus: 4.0,
        },
    };

    #[test]
    fn a_request_gets_the_defaults_or_what_it_asks_within_the_caps() {
        assert_eq!(RULES.resolve(None, None).unwrap(), RULES.default);
        let asked = RULES.resolve(Some(512), Some(0.5)).unwrap();
        assert_eq!(
            asked,
            Limits {
                memory_mb: 512,
                cpus: 0.5
            }
        );
        assert_eq!(RULES.resolve(Some(4096), Some(4.0)).unwrap(), RULES.max);
    }

    #[test]
    fn defaults_beyond_the_caps_are_a_configuration_error() {
        assert!(RULES.check().is_ok());
        let wrong = LimitRules {
            default: RULES.max,
            max: RULES.default,
        };
        let e = wrong.check().unwrap_err();
        assert!(
            e.0.starts_with("WORKER_MEMORY_MB and WORKER_CPUS must fit the caps"),
            "{e}"
        );
    }

    #[test]
    fn limits_beyond_the_caps_or_below_the_minimum_are_refused() {
        let too_much = RULES.resolve(Some(4097), None).unwrap_err();
        assert!(too_much.0.contains("WORKER_MEMORY_MAX_MB"), "{too_much}");
        assert!(RULES.resolve(Some(100), None).is_err());
        let cpus = RULES.resolve(None, Some(8.0)).unwrap_err();
        assert!(cpus.0.contains("WORKER_CPUS_MAX"), "{cpus}");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(RULES.resolve(None, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_farm_says_when_a_worker_would_not_fit() {
        let mut farm = FarmUse {
            claude: AgentUsage::default(),
            workers: 2,
            max_workers: 20,
            memory_given_mb: 4096,
            memory_budget_mb: 8192,
            default_limits: RULES.default,
        };
        assert_eq!(farm.memory_free_mb(), 4096);
        assert_eq!(farm.refusal(), None);
        farm.memory_given_mb = 7000;
        let refusal = farm.refusal().unwrap();
        assert!(
            refusal.contains("1192 MiB of 8192 MiB are free"),
            "{refusal}"
        );
        farm.workers = 20;
        assert!(farm.refusal().unwrap().contains("full"));
    }
}

//! Strategies choose among the actions the generator offers. One trait: uniform, weighted by
//! an opcode profile, and any external policy (the reinforcement-learning environment
//! implements [`Strategy`] and plugs in without changes to the generator).

use crate::action::{Action, Category};
use crate::rng::Rng;
use std::collections::HashMap;
use weft_core::ValType;

/// What a strategy sees besides the actions.
#[derive(Debug)]
pub struct View<'a> {
    /// Types of the values of the current block, bottom to top.
    pub block_stack: &'a [ValType],
    /// Results the current block (or function) must end with.
    pub block_results: &'a [ValType],
    /// Open constructs.
    pub depth: usize,
    /// Fuel the program consumes so far.
    pub fuel: u64,
    /// Fuel the generator steers towards.
    pub fuel_target: u64,
    /// How many times execution reaches the current point (0: dead code).
    pub visits: usize,
    /// Whether this is the entry function (helpers are generated first).
    pub in_entry: bool,
}

/// Chooses one of the offered actions.
pub trait Strategy {
    /// Index into `actions` (never empty). Out-of-range answers are taken modulo the length.
    fn choose(&mut self, view: &View<'_>, actions: &[Action], rng: &mut Rng) -> usize;
}

/// Uniform over offered actions.
#[derive(Clone, Debug, Default)]
pub struct Uniform;

impl Strategy for Uniform {
    fn choose(&mut self, _view: &View<'_>, actions: &[Action], rng: &mut Rng) -> usize {
        rng.below(actions.len() as u64) as usize
    }
}

/// Weighted by a profile: the probability of an action is proportional to the weight of its
/// opcode name (`i32.add`, `loop`, ...) or, failing that, of its category (`numeric`, ...),
/// shared among the offered actions of that name. Pushing values gets rarer as the block's
/// stack grows, so programs stay readable.
#[derive(Clone, Debug)]
pub struct Weighted {
    /// Weights by opcode name or category name.
    pub profile: HashMap<String, f64>,
}

impl Default for Weighted {
    fn default() -> Self {
        let mut p = HashMap::new();
        for (k, w) in [
            ("const", 3.0),
            ("local", 4.0),
            ("global", 1.5),
            ("numeric", 5.0),
            ("parametric", 0.7),
            ("memory", 2.0),
            ("call", 1.5),
            ("open", 1.6),
            ("close", 1.0),
            ("branch", 0.8),
            ("marker", 0.6),
        ] {
            p.insert(k.to_string(), w);
        }
        Weighted { profile: p }
    }
}

fn category_name(c: Category) -> &'static str {
    match c {
        Category::Const => "const",
        Category::Local => "local",
        Category::Global => "global",
        Category::Numeric => "numeric",
        Category::Parametric => "parametric",
        Category::Memory => "memory",
        Category::Call => "call",
        Category::Open => "open",
        Category::Close => "close",
        Category::Branch => "branch",
        Category::Marker => "marker",
    }
}

impl Weighted {
    /// A profile from `name=weight` pairs (opcode or category names).
    pub fn from_pairs(pairs: &[(String, f64)]) -> Self {
        let mut w = Weighted::default();
        for (k, v) in pairs {
            w.profile.insert(k.clone(), *v);
        }
        w
    }

    /// The profile key an action is weighted by: its opcode name if the profile has it,
    /// else its category.
    fn key(&self, a: &Action) -> &'static str {
        if self.profile.contains_key(a.kind()) {
            a.kind()
        } else {
            category_name(a.category())
        }
    }
}

impl Strategy for Weighted {
    fn choose(&mut self, view: &View<'_>, actions: &[Action], rng: &mut Rng) -> usize {
        let mut per_key: HashMap<&'static str, usize> = HashMap::new();
        for a in actions {
            *per_key.entry(self.key(a)).or_default() += 1;
        }
        let n = view.block_stack.len() as f64;
        let ws: Vec<f64> = actions
            .iter()
            .map(|a| {
                let k = self.key(a);
                let mut w = self.profile.get(k).copied().unwrap_or(1.0) / per_key[k] as f64;
                let pushes = matches!(
                    a,
                    Action::Const(_)
                        | Action::LocalGet(_)
                        | Action::GlobalGet(_)
                        | Action::MemorySize
                        | Action::Block(_)
                );
                if pushes {
                    w /= 1.0 + n * n * 0.5;
                }
                if matches!(a, Action::Drop) {
                    w *= 0.2 + n * 0.1;
                }
                w
            })
            .collect();
        let total: f64 = ws.iter().sum();
        if total <= 0.0 {
            return rng.below(actions.len() as u64) as usize;
        }
        let mut x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        for (i, w) in ws.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        actions.len() - 1
    }
}

/// An external policy given as a closure (for quick experiments; a policy can also implement
/// [`Strategy`] itself).
pub struct External<F>(pub F);

impl<F: FnMut(&View<'_>, &[Action]) -> usize> Strategy for External<F> {
    fn choose(&mut self, view: &View<'_>, actions: &[Action], _rng: &mut Rng) -> usize {
        (self.0)(view, actions) % actions.len()
    }
}

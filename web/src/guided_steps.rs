//! "Try this": an explorer's guided steps, one at a time, each checked live against the explorer's
//! state so the page says when it is done.

use era_web::guide::Step;
use leptos::prelude::*;

/// The steps `steps` of one explorer over its live `state` (`None` while its parameters are invalid).
/// A step counts from the state when it was opened; Back and Next move between steps.
#[component]
pub fn GuidedSteps<S>(
    /// The element id prefix (`ID-text`, `ID-status`, `ID-next`, `ID-back`).
    id: &'static str,
    /// The explorer's steps.
    steps: &'static [Step<S>],
    /// The explorer's state now.
    state: Memo<Option<S>>,
) -> impl IntoView
where
    S: Clone + PartialEq + Send + Sync + 'static,
{
    let at = RwSignal::new(0usize);
    // The state when the current step was opened: what "raise by 1" is measured from.
    let start = RwSignal::new(state.get_untracked());
    let open = move |i: usize| {
        at.set(i.min(steps.len() - 1));
        start.set(state.get_untracked());
    };
    let done = Memo::new(move |_| {
        let step = &steps[at.get()];
        start.with(|s| state.with(|now| matches!((s, now), (Some(s), Some(n)) if (step.done)(s, n))))
    });
    view! {
        <aside class="guide" aria-labelledby=format!("{id}-title")>
            <h3 id=format!("{id}-title")>{move || format!("Try this — step {} of {}", at.get() + 1, steps.len())}</h3>
            <p id=format!("{id}-text")>{move || steps[at.get()].text}</p>
            <p id=format!("{id}-status") class="guide-status" class:done=move || done.get() aria-live="polite">
                {move || if done.get() { "✓ Done — see the charts." } else { "Not yet." }}
            </p>
            <button type="button" id=format!("{id}-back") disabled=move || at.get() == 0 on:click=move |_| open(at.get_untracked().saturating_sub(1))>
                "Back"
            </button>
            <button type="button" id=format!("{id}-next") disabled=move || at.get() + 1 == steps.len() on:click=move |_| open(at.get_untracked() + 1)>
                "Next step"
            </button>
        </aside>
    }
}

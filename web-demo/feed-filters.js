// Filters over the event rows (the feed and the history view): by action, by resource name and
// by record id (a part of the id of the record, or of an impacted object). A row that does not
// match gets the `hidden` attribute; nothing is removed.

import { $ } from '/dom.js';

function current() {
  return {
    action: $('filter-action').value,
    resource: $('filter-resource').value,
    id: $('filter-id').value.trim(),
  };
}

export function rowMatches(li, filter) {
  if (filter.action && li.dataset.action !== filter.action) return false;
  if (filter.resource && li.dataset.resource !== filter.resource) return false;
  if (filter.id && !(li.dataset.ids ?? '').split(' ').some((id) => id.includes(filter.id))) return false;
  return true;
}

// `lists()`: the <ol> elements whose li.event rows are filtered. `onChange()` after each apply.
export function startFeedFilters({ lists, onChange = () => {} }) {
  function active() {
    const f = current();
    return !!(f.action || f.resource || f.id);
  }
  function apply() {
    const filter = current();
    for (const list of lists()) {
      for (const li of list.querySelectorAll(':scope > li.event')) li.hidden = !rowMatches(li, filter);
    }
    $('feed-filters').dataset.active = String(active());
    onChange();
  }
  $('filter-action').addEventListener('change', apply);
  $('filter-resource').addEventListener('change', apply);
  $('filter-id').addEventListener('input', apply);
  $('feed-filters').addEventListener('submit', (e) => e.preventDefault());
  $('feed-filters').addEventListener('reset', () => setTimeout(apply));
  return { apply, active };
}

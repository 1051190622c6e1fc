// A supplier signs itself up (POST /api/suppliers/register), is logged in, and goes on
// to sign its credit commitment (commitment.html).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, login, errorText, ApiError } from '../api.js';
import { t, getLang, onLangChange } from '../i18n.js';
import { replace, banner, busy } from '../ui.js';
import { clearFieldErrors, setFieldError, showFieldErrors } from '../form-kit.js';

const form = document.getElementById('signup-form');
const statusEl = document.getElementById('signup-status');
const button = document.getElementById('signup-submit');
const regionSel = document.getElementById('su-region');
let regions = [];

function fillRegions() {
  const keep = regionSel.value;
  regionSel.replaceChildren(...regions.map((r) => new Option(getLang() === 'en' ? r.name_en : r.name_zh, r.code)));
  if (keep) regionSel.value = keep;
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearFieldErrors(form);
  replace(statusEl);
  const f = form.elements;
  const body = {
    name: f.name.value, credit_code: f.credit_code.value.trim().toUpperCase(), region_code: f.region_code.value,
    enterprise_size: f.enterprise_size.value, special_status: f.special_status.value || null,
    username: f.username.value.trim(), display_name: f.display_name.value, password: f.password.value,
  };
  const stop = busy(button, t('plans.saving'));
  try {
    await post('/api/suppliers/register', body, { skipCsrf: true });
    await login(body.username, body.password);
    location.assign('/commitment.html?welcome=1');
  } catch (e) {
    stop();
    if (e instanceof ApiError && e.code === 'VALIDATION') {
      const rest = showFieldErrors(form, e.fields);
      if (rest.length) replace(statusEl, banner('error', rest.join('；')));
    } else if (e instanceof ApiError && e.code === 'INVALID_CREDIT_CODE') {
      setFieldError(form, 'credit_code', errorText(e));
    } else {
      replace(statusEl, banner('error', errorText(e)));
    }
  }
});

onLangChange(fillRegions);

async function main() {
  setPageTitle('signup.title');
  await initLayout({ auth: 'optional' });
  regions = await get('/api/regions');
  fillRegions();
}

main();

// Managing canned responses: the tenant's (supervisors) and one's own.
import { useSignal } from '@preact/signals';

import { t } from '../shared/i18n';
import type { CannedResponse } from '../shared/types';
import { describe } from './ops';
import type { Store } from './store';

export function CannedScreen({ store }: { store: Store }) {
  const list = store.ops.canned.value;
  const editing = useSignal<string | null>(null);
  return (
    <section class="screen" aria-labelledby="canned-title" data-testid="canned-screen">
      <h2 id="canned-title">{t('canned.title')}</h2>
      <p class="hint">{t('canned.placeholders')}</p>
      <CannedForm store={store} key="new" />
      {list.length === 0 ? (
        <p class="empty">{t('canned.empty')}</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('canned.shortcut')}</th>
              <th scope="col">{t('canned.text')}</th>
              <th scope="col">{t('canned.scope')}</th>
              <th scope="col">
                <span class="sr-only">{t('common.edit')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) =>
              editing.value === c.id ? (
                <tr key={c.id}>
                  <td colSpan={4}>
                    <CannedForm store={store} existing={c} done={() => (editing.value = null)} />
                  </td>
                </tr>
              ) : (
                <tr key={c.id} data-canned-id={c.id}>
                  <td>
                    <code>/{c.shortcut}</code>
                  </td>
                  <td class="wrap">{c.text}</td>
                  <td>{c.scope === 'tenant' ? t('canned.tenant') : t('canned.personal')}</td>
                  <td class="row-actions">
                    <button class="small" onClick={() => (editing.value = c.id)}>
                      {t('common.edit')}
                    </button>
                    <button
                      class="small"
                      onClick={async () => {
                        try {
                          await store.api.deleteCanned(c.id);
                          await store.ops.loadCanned();
                        } catch (e) {
                          store.toast(describe(e), 'error');
                        }
                      }}
                    >
                      {t('common.delete')}
                    </button>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CannedForm({ store, existing, done }: { store: Store; existing?: CannedResponse; done?: () => void }) {
  const shortcut = useSignal(existing?.shortcut ?? '');
  const text = useSignal(existing?.text ?? '');
  const scope = useSignal<CannedResponse['scope']>(existing?.scope ?? 'personal');
  const idp = existing ? `canned-${existing.id}` : 'canned-new';
  return (
    <form
      class="inline-form"
      data-testid={existing ? 'canned-edit' : 'canned-new'}
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          if (existing) await store.api.updateCanned(existing.id, { shortcut: shortcut.value, text: text.value });
          else await store.api.createCanned({ shortcut: shortcut.value, text: text.value, scope: scope.value });
          shortcut.value = existing ? shortcut.value : '';
          text.value = existing ? text.value : '';
          await store.ops.loadCanned();
          done?.();
        } catch (err) {
          store.toast(describe(err), 'error');
        }
      }}
    >
      <label for={`${idp}-shortcut`}>{t('canned.shortcut')}</label>
      <input
        id={`${idp}-shortcut`}
        required
        pattern="[a-z0-9_\-]{1,32}"
        maxLength={32}
        value={shortcut.value}
        onInput={(e) => (shortcut.value = (e.currentTarget as HTMLInputElement).value)}
      />
      <label for={`${idp}-text`}>{t('canned.text')}</label>
      <textarea id={`${idp}-text`} required rows={2} maxLength={4096} value={text.value} onInput={(e) => (text.value = (e.currentTarget as HTMLTextAreaElement).value)} />
      {!existing && (
        <>
          <label for={`${idp}-scope`}>{t('canned.scope')}</label>
          <select id={`${idp}-scope`} value={scope.value} onChange={(e) => (scope.value = (e.currentTarget as HTMLSelectElement).value as CannedResponse['scope'])}>
            <option value="personal">{t('canned.personal')}</option>
            {store.ops.supervisor.value && <option value="tenant">{t('canned.tenant')}</option>}
          </select>
        </>
      )}
      <div class="form-actions">
        {done && (
          <button type="button" onClick={done}>
            {t('common.cancel')}
          </button>
        )}
        <button type="submit" class="primary">
          {existing ? t('common.save') : t('canned.add')}
        </button>
      </div>
    </form>
  );
}

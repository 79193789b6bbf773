// Managing the tenant's labels (supervisors change them; everyone sees the counts).
import { useSignal } from '@preact/signals';

import { t } from '../shared/i18n';
import { LabelChip } from './Queue';
import { describe } from './ops';
import type { Store } from './store';

export function LabelsScreen({ store }: { store: Store }) {
  const labels = store.ops.labels.value;
  const sup = store.ops.supervisor.value;
  const name = useSignal('');
  const color = useSignal('#0b57d0');
  const run = async (job: () => Promise<unknown>) => {
    try {
      await job();
      await store.ops.loadLabels();
    } catch (e) {
      store.toast(describe(e), 'error');
    }
  };
  return (
    <section class="screen" aria-labelledby="labels-title" data-testid="labels-screen">
      <h2 id="labels-title">{t('labels.title')}</h2>
      {sup && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await store.api.createLabel({ name: name.value.trim(), color: color.value });
              name.value = '';
            });
          }}
        >
          <label for="label-name">{t('labels.name')}</label>
          <input id="label-name" required maxLength={64} value={name.value} onInput={(e) => (name.value = (e.currentTarget as HTMLInputElement).value)} />
          <label for="label-color">{t('labels.color')}</label>
          <input id="label-color" type="color" value={color.value} onInput={(e) => (color.value = (e.currentTarget as HTMLInputElement).value)} />
          <div class="form-actions">
            <button type="submit" class="primary">
              {t('labels.add')}
            </button>
          </div>
        </form>
      )}
      {labels.length === 0 ? (
        <p class="empty">{t('labels.empty')}</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('labels.name')}</th>
              <th scope="col">{t('labels.open')}</th>
              {sup && (
                <th scope="col">
                  <span class="sr-only">{t('common.edit')}</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {labels.map((l) => (
              <tr key={l.id} data-label-id={l.id}>
                <td>
                  <LabelChip label={l} />
                </td>
                <td>
                  <button
                    class="link"
                    onClick={() => {
                      store.labelFilter.value = l.id;
                      store.show('tickets');
                    }}
                  >
                    {l.openCount}
                  </button>
                </td>
                {sup && (
                  <td class="row-actions">
                    <input
                      type="color"
                      aria-label={`${t('labels.color')}: ${l.name}`}
                      value={l.color}
                      onChange={(e) => void run(() => store.api.updateLabel(l.id, { color: (e.currentTarget as HTMLInputElement).value }))}
                    />
                    <button class="small" onClick={() => void run(() => store.api.deleteLabel(l.id))}>
                      {t('common.delete')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

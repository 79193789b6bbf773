// The conversation's dialogs: take over, assign, transfer.
import { useComputed, useSignal } from '@preact/signals';

import { t } from '../shared/i18n';
import type { Ticket } from '../shared/types';
import type { Store } from './store';

type DialogRef = { current: HTMLDialogElement | null };

/** "— available", "— offline": an operator's state in a choice. */
function stateOf(o: { status: string; online: boolean }): string {
  return o.status ? ` — ${o.online ? o.status.toLowerCase() : t('conv.offlineLower')}` : '';
}

export function HijackDialog({ store, ticket, dialog }: { store: Store; ticket: Ticket; dialog: DialogRef }) {
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="hijack-title">
      <form
        method="dialog"
        onSubmit={async (e) => {
          e.preventDefault();
          dialog.current?.close();
          await store.assign(ticket, null);
        }}
      >
        <h2 id="hijack-title">{t('conv.hijackTitle')}</h2>
        <p>{t('conv.hijackText', { name: ticket.handleByNm || ticket.handleById, title: ticket.ticketNm })}</p>
        <div class="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="primary" data-testid="confirm-hijack">
            {t('conv.takeOver')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function AssignDialog({ store, ticket, dialog }: { store: Store; ticket: Ticket; dialog: DialogRef }) {
  const target = useSignal('');
  const me = store.me.value?.userId;
  const options = useComputed(() => store.operators.value.filter((o) => o.id !== ticket.handleById));
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="assign-title">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const id = target.value.trim();
          if (!id) return;
          dialog.current?.close();
          const name = id === me ? t('conv.you') : (options.value.find((o) => o.id === id)?.name ?? id);
          if (await store.assign(ticket, id)) store.toast(t('conv.assigned', { title: ticket.ticketNm, name }));
          target.value = '';
        }}
      >
        <h2 id="assign-title">{t('conv.assignTitle', { title: ticket.ticketNm })}</h2>
        <label for="assign-to">{t('conv.operator')}</label>
        <select id="assign-to" required value={target.value} onChange={(e) => (target.value = (e.currentTarget as HTMLSelectElement).value)}>
          <option value="">{t('conv.chooseOperator')}</option>
          {options.value.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
              {stateOf(o)}
            </option>
          ))}
        </select>
        <div class="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="primary">
            {t('conv.doAssign')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Transfers to a team (back to its queue) or to an operator, with a note for whoever takes it. */
export function TransferDialog({ store, ticket, dialog }: { store: Store; ticket: Ticket; dialog: DialogRef }) {
  const target = useSignal('');
  const note = useSignal('');
  const operators = useComputed(() => store.operators.value.filter((o) => o.id !== ticket.handleById));
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="transfer-title" data-testid="transfer-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const cut = target.value.indexOf(':');
          const kind = target.value.slice(0, cut);
          const id = target.value.slice(cut + 1);
          if (cut < 0 || !id) return;
          dialog.current?.close();
          const to = kind === 'team' ? { team: id } : { operatorId: id };
          const name =
            kind === 'team' ? (store.teams.value.find((x) => x.teamId === id)?.name ?? id) : (operators.value.find((o) => o.id === id)?.name ?? id);
          if (await store.transfer(ticket, to, note.value.trim())) store.toast(t('conv.transferred', { title: ticket.ticketNm, name }));
          target.value = '';
          note.value = '';
        }}
      >
        <h2 id="transfer-title">{t('conv.transferTitle', { title: ticket.ticketNm })}</h2>
        <label for="transfer-to">{t('conv.to')}</label>
        <select id="transfer-to" required value={target.value} onChange={(e) => (target.value = (e.currentTarget as HTMLSelectElement).value)}>
          <option value="">{t('conv.chooseTarget')}</option>
          <optgroup label={t('conv.teams')}>
            {store.teams.value.map((x) => (
              <option key={x.teamId} value={`team:${x.teamId}`}>
                {x.name}
              </option>
            ))}
          </optgroup>
          <optgroup label={t('conv.operators')}>
            {operators.value.map((o) => (
              <option key={o.id} value={`operator:${o.id}`}>
                {o.name}
                {stateOf(o)}
              </option>
            ))}
          </optgroup>
        </select>
        <label for="transfer-note">{t('conv.noteOptional')}</label>
        <textarea
          id="transfer-note"
          rows={3}
          maxLength={4000}
          value={note.value}
          onInput={(e) => (note.value = (e.currentTarget as HTMLTextAreaElement).value)}
        />
        <div class="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="primary">
            {t('conv.doTransfer')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

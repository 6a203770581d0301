/**
 * The console page: the topology graph and the live numbers of every part of the pipeline,
 * from one snapshot stream (/api/events), with the operator's actions (retry parked outbox
 * rows, replay dead letters) and lookups beside them.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson, useSnapshotStream } from './api.js';
import { DeadLettersPanel } from './dead-letters.js';
import { TopologyGraph } from './graph.js';
import { Header } from './header.js';
import { html } from './html.js';
import { OrderLookup, ProductLookup } from './lookups.js';
import { OutboxSummary, ParkedRows } from './outbox.js';
import { PartitionsTable, ReplicasTable } from './partitions.js';
import { SubtopologiesList } from './subtopologies.js';

/** The description does not change while the console runs: read once, retried until it answers. */
function useTopology() {
  const [topology, setTopology] = useState({ data: null, error: null });
  useEffect(() => {
    let timer;
    const load = async () => {
      try {
        setTopology({ data: await getJson('/api/topology'), error: null });
      } catch (error) {
        setTopology({ data: null, error: error.message });
        timer = setTimeout(load, 2000);
      }
    };
    load();
    return () => clearTimeout(timer);
  }, []);
  return topology;
}

function App() {
  const topology = useTopology();
  const { snapshot, connection } = useSnapshotStream();
  return html`
    <${Header} group=${topology.data?.group} snapshot=${snapshot} connection=${connection} />
    <main>
      <div class="overview">
        <section class="panel graph-panel">
          <h2>Topology</h2>
          ${topology.data ? html`<div class="graph-scroll"><${TopologyGraph} description=${topology.data.description} snapshot=${snapshot} /></div>` : html`<p class="muted">${topology.error ? `Topology unavailable (${topology.error}), retrying…` : 'Loading the topology…'}</p>`}
        </section>
        <div class="side">
          <${SubtopologiesList} description=${topology.data?.description} snapshot=${snapshot} />
          <${OutboxSummary} snapshot=${snapshot} />
          <${ReplicasTable} snapshot=${snapshot} />
        </div>
      </div>
      <${PartitionsTable} snapshot=${snapshot} />
      <${ParkedRows} snapshot=${snapshot} />
      <${DeadLettersPanel} snapshot=${snapshot} />
      <div class="lookups">
        <${OrderLookup} />
        <${ProductLookup} />
      </div>
    </main>
  `;
}

const container = document.getElementById('app');
// Preact 11 renders beside what the container holds: the "Loading" text goes first.
container.replaceChildren();
render(html`<${App} />`, container);

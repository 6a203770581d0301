export type {
  InternalTopicDescription,
  NodeDescription,
  ProcessorDescription,
  SinkDescription,
  SourceDescription,
  StoreDescription,
  SubtopologyDescription,
  TopologyDescription,
} from './description.ts';
export { describeTopology, formatJson } from './description.ts';
export { formatDot } from './format-dot.ts';
export { formatMermaid } from './format-mermaid.ts';
export { formatText } from './format-text.ts';
export type { ImageFormat, RenderOptions } from './render-image.ts';
export { GraphvizMissingError, renderImage } from './render-image.ts';

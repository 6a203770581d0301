import { describe, expect, it } from '@jest/globals';
import { asyncApiDocument, type ChannelContract, topicsOf } from '../../../topology/describe/format-asyncapi.ts';
import { describeTopology } from '../../../topology/describe/index.ts';
import { wordCountTopology } from './fixtures.ts';

const description = describeTopology(wordCountTopology());
const info = { title: 'word count', version: '1.0.0', description: 'test' };

function channel(topic: string): ChannelContract {
  return {
    topic,
    description: `the ${topic} topic`,
    messages: [{ name: 'Word.v1', summary: 'a word', contentType: 'application/json', payload: { type: 'object' }, headers: { type: 'object' }, key: { type: 'string' } }],
    operations: [{ action: 'send', role: 'word writer', summary: 'writes words' }],
  };
}

describe('asyncApiDocument', () => {
  const topics = topicsOf(description);

  it('lists every topic of the description: sources, sinks and internal topics', () => {
    expect(topics).toEqual(expect.arrayContaining(['lines', 'word-counts', ...description.internalTopics.map((internal) => internal.topic)]));
    expect(new Set(topics).size).toBe(topics.length);
  });

  it('refuses a topology topic without a channel contract, naming it', () => {
    const [left, ...rest] = topics;
    expect(() => asyncApiDocument(description, rest.map(channel), info)).toThrow(`no channel contract for topic ${left} of the topology`);
  });

  it('keeps a topic name as the address and makes ids of letters, digits, _ and -', () => {
    const document = asyncApiDocument(description, [...topics.map(channel), channel('dead.letters')], info) as {
      channels: Record<string, { address: string; messages: Record<string, unknown> }>;
      operations: Record<string, { action: string; channel: { $ref: string }; messages: Array<{ $ref: string }> }>;
    };
    expect(document.channels.dead_letters).toMatchObject({ address: 'dead.letters', messages: { Word_v1: { name: 'Word.v1', bindings: { kafka: { key: { type: 'string' } } } } } });
    expect(document.operations['word_writer-sends-dead_letters']).toEqual({
      action: 'send',
      channel: { $ref: '#/channels/dead_letters' },
      summary: 'writes words',
      messages: [{ $ref: '#/channels/dead_letters/messages/Word_v1' }],
    });
  });

  it('refuses two topics that would share a channel id', () => {
    expect(() => asyncApiDocument(description, [...topics.map(channel), channel('a.b'), channel('a_b')], info)).toThrow('two topics share the channel id a_b');
  });
});

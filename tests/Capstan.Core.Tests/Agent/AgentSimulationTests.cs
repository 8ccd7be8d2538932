namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using static AgentHarness;

/// <summary>
/// Seeded random runs of one agent against the §12 mock: random requests from the owner (and from
/// stale owners, other epochs, malformed senders), owner changes, random executor results and
/// injected executor exceptions. Safety is checked after every tick; then a liveness phase removes
/// every span and checks the agent and executor drain. Fixed seeds; a failure names its seed.
/// </summary>
public class AgentSimulationTests
{
    private const int SeedCount = 300;
    private const int RandomTicks = 60;
    private const int SpanTables = 4;

    [Fact(DisplayName = "Simulation: random requests, owner changes, bad messages, executor results and faults → safe every tick, and every span drains afterwards")]
    public void RandomRuns_AreSafeAndDrain()
    {
        for (ulong seed = 1; seed <= SeedCount; seed++)
        {
            try
            {
                new Run(seed).Execute();
            }
            catch (Exception error)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}: {error}");
            }
        }
    }

    private sealed class Run(ulong seed)
    {
        private readonly SeededRandom _random = new(seed);
        private readonly AgentHarness _harness = new();
        private long _revision = 1;
        private CaptureId _owner = OwnerCapture;
        private AgentCounters _expected;
        private long _faults;
        private bool _faultsOn = true;

        public void Execute()
        {
            _harness.Executor.Fault = (_, _) =>
            {
                if (!_faultsOn || !_random.Chance(0.03))
                {
                    return null;
                }

                _faults++;
                return new InvalidOperationException("injected");
            };

            for (int tick = 0; tick < RandomTicks; tick++)
            {
                RandomTick(tick);
            }

            Drain();
        }

        private void RandomTick(int tick)
        {
            MockTableExecutor executor = _harness.Executor;
            executor.AddResult = _random.Chance(0.7);
            executor.AddFinishedResult = _random.Chance(0.6);
            executor.RemoveResult = _random.Chance(0.7);
            executor.RemoveFinishedResult = _random.Chance(0.6);
            executor.RemoveCheckpointTs = (ulong)tick;

            var inbox = new List<Message>();
            int expectedHeartbeats = 0;
            if (_random.Chance(0.05))
            {
                _revision++;
                _owner = $"owner-{_revision}";
                inbox.Add(FromCurrentOwner(Heartbeat(RandomSpans())));
                expectedHeartbeats++;
            }

            int count = _random.Next(5);
            for (int index = 0; index < count; index++)
            {
                inbox.Add(RandomMessage(ref expectedHeartbeats));
            }

            List<Message> outbox = _harness.Tick([.. inbox]);
            Check(inbox, outbox, expectedHeartbeats);
        }

        private Message RandomMessage(ref int expectedHeartbeats)
        {
            Span span = SpanOf(1 + _random.Next(SpanTables));
            Message message = _random.Next(4) switch
            {
                0 => Prepare(span, Checkpoint.At(100)),
                1 => Commit(span, Checkpoint.At(100)),
                2 => RemoveTable(span),
                _ => Heartbeat(RandomSpans()),
            };
            message = FromCurrentOwner(message);

            int fault = _random.Next(20);
            switch (fault)
            {
                case 0 when _revision > 1:
                    _expected = _expected with { StaleOwnerMessagesDropped = _expected.StaleOwnerMessagesDropped + 1 };
                    return FromOwner(message, _revision - 1, "owner-old");
                case 1:
                    _expected = _expected with { ChangefeedEpochMismatchesDropped = _expected.ChangefeedEpochMismatchesDropped + 1 };
                    return message with { Header = message.Header with { ChangefeedEpoch = new ChangefeedEpoch(99) } };
                case 2:
                    _expected = _expected with { MalformedMessagesDropped = _expected.MalformedMessagesDropped + 1 };
                    return message with { Type = MessageType.Unknown };
                case 3 when message.Type == MessageType.DispatchTableRequest:
                    _expected = _expected with { WrongProcessorEpochRequestsDropped = _expected.WrongProcessorEpochRequestsDropped + 1 };
                    return message with { Header = message.Header with { ProcessorEpoch = new ProcessorEpoch("old-epoch") } };
                default:
                    expectedHeartbeats += message.Type == MessageType.Heartbeat ? 1 : 0;
                    return message;
            }
        }

        private Span[] RandomSpans()
        {
            var spans = new List<Span>();
            for (int table = 1; table <= SpanTables + 1; table++)
            {
                if (_random.Chance(0.5))
                {
                    spans.Add(SpanOf(table));
                }
            }

            return [.. spans];
        }

        private Message FromCurrentOwner(Message message) =>
            message with { Header = message.Header with { OwnerRevision = new OwnerRevision(_revision) }, From = _owner };

        private void Check(List<Message> inbox, List<Message> outbox, int expectedHeartbeats)
        {
            Agent agent = _harness.Agent;
            var header = new Header(AgentVersion, new OwnerRevision(_revision), AgentEpoch, FeedEpoch);
            int heartbeats = outbox.TakeWhile(message => message.Type == MessageType.HeartbeatResponse).Count();
            Assert.Equal(expectedHeartbeats, heartbeats);
            Assert.All(outbox.Skip(heartbeats), message => Assert.Equal(MessageType.DispatchTableResponse, message.Type));
            Assert.All(outbox, message =>
            {
                Assert.Equal(header, message.Header);
                Assert.Equal(AgentCapture, message.From);
                Assert.Equal(_owner, message.To);
            });

            CheckHeartbeatResponses(inbox, outbox.Take(heartbeats));
            CheckDispatchResponses(outbox.Skip(heartbeats));

            AgentCounters counters = agent.Counters;
            Assert.Equal(_faults, counters.ExecutorErrors);
            Assert.Equal(_expected, counters with
            {
                ExecutorErrors = 0, ConflictingOwnerMessagesDropped = 0, BusySpanRequestsIgnored = 0, UntrackedRemoveRequestsIgnored = 0,
            });
            Assert.Equal(0, counters.ConflictingOwnerMessagesDropped);
            Assert.True(_harness.Executor.Count <= agent.TrackedSpanCount, "the executor holds only spans the agent tracks");
        }

        private void CheckHeartbeatResponses(List<Message> inbox, IEnumerable<Message> responses)
        {
            var accepted = inbox.Where(message => message.Type == MessageType.Heartbeat
                && message.Header.OwnerRevision == new OwnerRevision(_revision)
                && message.Header.ChangefeedEpoch == FeedEpoch).ToList();
            int index = 0;
            foreach (Message response in responses)
            {
                HeartbeatResponse body = HeartbeatResponseOf(response);
                Assert.Equal(_harness.Liveness.Value, body.Liveness);
                var reported = body.Tables.Select(status => status.Span).ToHashSet();
                Assert.All(accepted[index++].Heartbeat!.Spans, span => Assert.Contains(span, reported));
            }
        }

        private void CheckDispatchResponses(IEnumerable<Message> responses)
        {
            var spans = new HashSet<Span>();
            foreach (Message response in responses)
            {
                DispatchTableResponse body = response.DispatchTableResponse!;
                TableStatus status = body.AddTable?.Status ?? body.RemoveTable!.Status;
                Assert.True(spans.Add(status.Span), $"one response per span per tick: {status.Span}");
                if (body.RemoveTable is not null && status.State == TableState.Stopped)
                {
                    Assert.Equal(TableState.Absent, _harness.Executor.StateOf(status.Span));
                }
            }
        }

        private void Drain()
        {
            _faultsOn = false;
            MockTableExecutor executor = _harness.Executor;
            (executor.AddResult, executor.AddFinishedResult, executor.RemoveResult, executor.RemoveFinishedResult) = (true, true, true, true);
            Span[] all = [.. Enumerable.Range(1, SpanTables).Select(table => SpanOf(table))];
            for (int tick = 0; tick < 6 && (_harness.Agent.TrackedSpanCount > 0 || executor.Count > 0); tick++)
            {
                _harness.Tick([.. all.Select(span => FromCurrentOwner(RemoveTable(span)))]);
            }

            Assert.Equal(0, _harness.Agent.TrackedSpanCount);
            Assert.Equal(0, executor.Count);
            HeartbeatResponse last = HeartbeatResponseOf(_harness.Tick(FromCurrentOwner(Heartbeat(all)))[0]);
            Assert.All(last.Tables, status => Assert.Equal(TableState.Absent, status.State));
        }
    }
}

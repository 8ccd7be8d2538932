namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using static AgentHarness;

/// <summary>§10.4 #4 TestAgentPermuteMessages: exhaustive, deterministic.</summary>
public class AgentPermutationTests
{
    private static readonly Span Span1 = SpanOf(1);

    private static readonly TableState[] InitialStates =
    [
        TableState.Absent, TableState.Preparing, TableState.Prepared, TableState.Replicating, TableState.Stopping, TableState.Stopped,
    ];

    private enum Kind
    {
        Remove,
        AddPrepare,
        AddCommit,
        Heartbeat,
    }

    public static TheoryData<TableState> States() => [.. InitialStates];

    /// <summary>
    /// For every initial executor state of the span and every order of {remove, add prepare, add
    /// commit, heartbeat}: each request is delivered four times, once per combination of the
    /// executor's two results (false/true × false/true), on a fresh agent and executor per order.
    /// A heartbeat always gets exactly one response, Alive, listing the span once; a remove
    /// response is Stopping unless both RemoveTableSpan and IsRemoveTableSpanFinished succeed
    /// (then Stopped); the executor is never called out of its contract and nothing is dropped.
    /// </summary>
    [Theory(DisplayName = "TestAgentPermuteMessages: every order of remove/prepare/commit/heartbeat × initial executor state × executor results")]
    [MemberData(nameof(States))]
    public void PermuteMessages(TableState initial)
    {
        int orders = 0;
        var removeResponses = new Dictionary<TableState, int>();
        foreach (Kind[] order in Permutations([Kind.Remove, Kind.AddPrepare, Kind.AddCommit, Kind.Heartbeat]))
        {
            string scenario = $"initial {initial}, order [{string.Join(", ", order)}]";
            var harness = new AgentHarness();
            if (initial != TableState.Absent)
            {
                harness.Executor.SetState(Span1, initial);
            }

            foreach (Kind kind in order)
            {
                Deliver(harness, kind, scenario, removeResponses);
            }

            Assert.True(default(AgentCounters) == harness.Agent.Counters with { BusySpanRequestsIgnored = 0, UntrackedRemoveRequestsIgnored = 0 },
                $"{scenario}: {harness.Agent.Counters}");
            orders++;
        }

        Assert.Equal(24, orders);
        Assert.True(removeResponses.GetValueOrDefault(TableState.Stopping) > 0 && removeResponses.GetValueOrDefault(TableState.Stopped) > 0,
            "both remove outcomes were exercised");
    }

    private static void Deliver(AgentHarness harness, Kind kind, string scenario, Dictionary<TableState, int> removeResponses)
    {
        if (kind == Kind.Heartbeat)
        {
            List<Message> outbox = harness.Tick(Heartbeat(Span1));
            HeartbeatResponse response = HeartbeatResponseOf(outbox[0]);
            Assert.True(outbox.Count(message => message.Type == MessageType.HeartbeatResponse) == 1, scenario);
            Assert.Equal(Liveness.Alive, response.Liveness);
            Assert.Equal([Span1], response.Tables.Select(status => status.Span));
            return;
        }

        foreach (bool first in new[] { false, true })
        {
            foreach (bool second in new[] { false, true })
            {
                string step = $"{scenario}, {kind} with results ({first}, {second})";
                if (kind == Kind.Remove)
                {
                    DeliverRemove(harness, first, second, step, removeResponses);
                }
                else
                {
                    harness.Executor.AddResult = first;
                    harness.Executor.AddFinishedResult = second;
                    List<Message> outbox = harness.Tick(kind == Kind.AddPrepare ? Prepare(Span1) : Commit(Span1));
                    Assert.True(outbox.Count <= 1, step);
                    Assert.All(outbox, message => Assert.Equal(Span1, AddStatus(message).Span));
                }

                Assert.True(harness.Agent.TrackedSpanCount <= 1, step);
                Assert.True(harness.Agent.Counters.ExecutorErrors == 0, $"{step}: {harness.Agent.LastExecutorError}");
            }
        }
    }

    private static void DeliverRemove(
        AgentHarness harness, bool removeDone, bool removeFinished, string step, Dictionary<TableState, int> removeResponses)
    {
        harness.Executor.RemoveResult = removeDone;
        harness.Executor.RemoveFinishedResult = removeFinished;
        List<Message> outbox = harness.Tick(RemoveTable(Span1));
        if (outbox.Count == 0)
        {
            return;
        }

        TableState expected = removeDone && removeFinished ? TableState.Stopped : TableState.Stopping;
        Assert.True(outbox.Count == 1, step);
        Assert.True(expected == RemoveStatus(outbox[0]).State, $"{step}: expected {expected}, got {RemoveStatus(outbox[0]).State}");
        removeResponses[expected] = removeResponses.GetValueOrDefault(expected) + 1;
    }

    /// <summary>All permutations, in lexicographic order of positions (deterministic).</summary>
    private static IEnumerable<T[]> Permutations<T>(T[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (int index = 0; index < items.Length; index++)
        {
            T[] rest = [.. items[..index], .. items[(index + 1)..]];
            foreach (T[] tail in Permutations(rest))
            {
                yield return [items[index], .. tail];
            }
        }
    }
}

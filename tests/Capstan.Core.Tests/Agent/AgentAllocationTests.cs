namespace Capstan.Core.Tests.Agent;

using System.Runtime.CompilerServices;
using Capstan.Core.Agent;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using static AgentHarness;

/// <summary>The agent's hot path over many spans: heartbeats and steady-state polls must not allocate per span.</summary>
public class AgentAllocationTests
{
    private const int SpanCount = 16_384;

    /// <summary>
    /// Everything besides the status array: the response, its message, and nothing per span. The
    /// runtime may also charge part of an allocation quantum (8 KB) when a GC, triggered by the
    /// large array, retires the thread's allocation context; one byte per span would already be 16 KB.
    /// </summary>
    private const long ConstantSlackBytes = 12 * 1_024;

    [Fact(DisplayName = "Heartbeat over 16,384 tracked spans (listing them and 3 untracked ones) allocates the status array once and nothing per span")]
    public void Heartbeat_ManySpans_OneArrayAllocation()
    {
        var harness = TrackReplicatingSpans(SpanCount);
        Span[] listed = [.. Enumerable.Range(0, SpanCount + 3).Select(index => SpanOf(10_000 + index))];
        Message[] inbox = [Heartbeat(listed)];
        var outbox = new List<Message>(4);
        Warm(harness, inbox, outbox);

        long allocated = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            outbox.Clear();
            long before = GC.GetAllocatedBytesForCurrentThread();
            harness.Agent.Tick(inbox, outbox);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        long arrayBytes = (long)(SpanCount + 3) * Unsafe.SizeOf<TableStatus>();
        Assert.Equal(SpanCount + 3, HeartbeatResponseOf(outbox[0]).Tables.Count);
        Assert.True(allocated >= arrayBytes && allocated <= arrayBytes + ConstantSlackBytes,
            $"allocated {allocated} bytes; the status array alone is {arrayBytes}");
    }

    [Fact(DisplayName = "Steady-state tick without messages over 16,384 tracked spans allocates nothing")]
    public void SteadyTick_ManySpans_NoAllocation()
    {
        var harness = TrackReplicatingSpans(SpanCount);
        var outbox = new List<Message>(4);
        Message[] inbox = [];
        Warm(harness, inbox, outbox);

        long allocated = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            harness.Agent.Tick(inbox, outbox);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Empty(outbox);
        Assert.True(allocated == 0, $"allocated {allocated} bytes");
    }

    private static AgentHarness TrackReplicatingSpans(int count)
    {
        var harness = new AgentHarness();
        var requests = new Message[count];
        for (int index = 0; index < count; index++)
        {
            Span span = SpanOf(10_000 + index);
            harness.Executor.SetState(span, TableState.Replicating);
            requests[index] = Commit(span);
        }

        List<Message> responses = harness.Tick(requests);
        Assert.Equal(count, responses.Count);
        Assert.Equal(count, harness.Agent.TrackedSpanCount);
        return harness;
    }

    private static void Warm(AgentHarness harness, Message[] inbox, List<Message> outbox)
    {
        for (int round = 0; round < 3; round++)
        {
            outbox.Clear();
            harness.Agent.Tick(inbox, outbox);
        }

        outbox.Clear();
    }
}

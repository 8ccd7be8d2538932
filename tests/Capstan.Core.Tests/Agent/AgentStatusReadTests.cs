namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using static AgentHarness;

/// <summary>
/// Issue 5: a heartbeat tick reads each tracked span's status from the executor once (the poll
/// reuses the heartbeat's read), and large responses are built in chunks; none of it changes what
/// the agent reports or decides.
/// </summary>
public class AgentStatusReadTests
{
    [Fact(DisplayName = "Heartbeat tick over quiet spans: the executor is asked once per span (TiCDC asks twice: heartbeat, then poll)")]
    public void HeartbeatTick_QuietSpans_OneStatusReadPerSpan()
    {
        var harness = Replicating(100);
        int before = harness.Executor.StatusCalls;

        harness.Tick(Heartbeat());

        Assert.Equal(100, harness.Executor.StatusCalls - before);
    }

    [Fact(DisplayName = "Tick without a heartbeat: the poll still reads every span, and drops one the executor lost")]
    public void TickWithoutHeartbeat_PollReadsEverySpan()
    {
        var harness = Replicating(10);
        harness.Executor.SetState(SpanOf(10_003), TableState.Absent);
        int before = harness.Executor.StatusCalls;

        Assert.Empty(harness.Tick());

        Assert.Equal(10, harness.Executor.StatusCalls - before);
        Assert.Equal(9, harness.Agent.TrackedSpanCount);
    }

    [Fact(DisplayName = "Heartbeat tick: a span the heartbeat read as Absent is reported Absent once, then dropped by the same tick's poll, as before")]
    public void HeartbeatTick_SpanReadAbsent_ReportedThenDropped()
    {
        var harness = Replicating(3);
        harness.Executor.SetState(SpanOf(10_001), TableState.Absent);

        var response = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat())));

        Assert.Equal([TableState.Replicating, TableState.Absent, TableState.Replicating], response.Tables.Select(status => status.State));
        Assert.Equal(2, harness.Agent.TrackedSpanCount);
        Assert.Equal(2, HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat()))).Tables.Count);
    }

    [Fact(DisplayName = "Heartbeat then a remove in the same tick: the poll runs the new task and re-reads that span")]
    public void HeartbeatThenRemoveSameTick_TaskRuns()
    {
        var harness = Replicating(3);
        harness.Executor.RemoveResult = true;
        harness.Executor.RemoveFinishedResult = true;
        harness.Executor.RemoveCheckpointTs = 7;

        var outbox = harness.Tick(Heartbeat(), RemoveTable(SpanOf(10_001)));

        Assert.Equal(2, outbox.Count);
        Assert.Equal(3, HeartbeatResponseOf(outbox[0]).Tables.Count);
        Assert.Equal(TableState.Stopped, RemoveStatus(outbox[1]).State);
        Assert.Equal(2, harness.Agent.TrackedSpanCount);
    }

    [Fact(DisplayName = "Large response (3,000 tracked + 2 listed untracked): every status in span order, then the untracked, read back by index, enumeration and equality")]
    public void LargeResponse_ChunkedListReadsBackInOrder()
    {
        const int count = 3_000;
        var harness = Replicating(count);
        Span[] untracked = [SpanOf(90_001), SpanOf(90_002)];

        var tables = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat(untracked)))).Tables;

        Assert.Equal(count + 2, tables.Count);
        var expected = Enumerable.Range(0, count).Select(index => new TableStatus(SpanOf(10_000 + index), TableState.Replicating, default))
            .Concat(untracked.Select(span => new TableStatus(span, TableState.Absent, default))).ToList();
        for (int index = 0; index < expected.Count; index++)
        {
            Assert.Equal(expected[index], tables[index]);
        }

        Assert.Equal(expected, tables);
        Assert.Equal(new HeartbeatResponse { Tables = expected }, new HeartbeatResponse { Tables = tables });
        Assert.Throws<ArgumentOutOfRangeException>(() => tables[count + 2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => tables[-1]);
    }

    [Theory(DisplayName = "Response sizes around the chunk size read back intact")]
    [InlineData(1)]
    [InlineData(1_023)]
    [InlineData(1_024)]
    [InlineData(1_025)]
    [InlineData(2_048)]
    [InlineData(2_049)]
    public void ResponseSizes_AroundChunkSize_ReadBackIntact(int count)
    {
        var harness = Replicating(count);

        var tables = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat()))).Tables;

        Assert.Equal(count, tables.Count);
        Assert.Equal(Enumerable.Range(0, count).Select(index => SpanOf(10_000 + index)), tables.Select(status => status.Span));
        Assert.Equal(SpanOf(10_000 + count - 1), tables[count - 1].Span);
    }

    [Fact(DisplayName = "A response already sent is never changed by later heartbeats (messages are immutable once sent)")]
    public void SentResponse_NotChangedByLaterTicks()
    {
        var harness = Replicating(2_000);
        harness.Executor.ReportedCheckpoint = Checkpoint.At(new Ts(5));
        var first = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat()))).Tables;
        var snapshot = first.ToList();

        harness.Executor.ReportedCheckpoint = Checkpoint.At(new Ts(9));
        var second = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat()))).Tables;

        Assert.Equal(snapshot, first);
        Assert.All(second, status => Assert.Equal(new Ts(9), status.Checkpoint.CheckpointTs));
    }

    private static AgentHarness Replicating(int count)
    {
        var harness = new AgentHarness();
        var requests = new Message[count];
        for (int index = 0; index < count; index++)
        {
            Span span = SpanOf(10_000 + index);
            harness.Executor.SetState(span, TableState.Replicating);
            requests[index] = Commit(span);
        }

        harness.Tick(requests);
        Assert.Equal(count, harness.Agent.TrackedSpanCount);
        return harness;
    }
}

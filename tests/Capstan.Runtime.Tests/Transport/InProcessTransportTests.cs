namespace Capstan.Runtime.Tests.Transport;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Runtime.Transport;

public class InProcessTransportTests
{
    private static readonly ChangefeedId Feed = "feed";

    private static Message HeartbeatTo(CaptureId from, CaptureId to) =>
        new() { Type = MessageType.Heartbeat, From = from, To = to, Heartbeat = Capstan.Core.Protocol.Heartbeat.Empty };

    private static Message Response(CaptureId from, CaptureId to) =>
        new() { Type = MessageType.HeartbeatResponse, From = from, To = to, HeartbeatResponse = new HeartbeatResponse() };

    [Fact]
    public void Send_SchedulerToAgent_DeliversTheSameObjectsInOrder()
    {
        var transport = new InProcessTransport();
        using var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        using var agent = transport.Open("b", Feed, TransportRole.Agent);
        var first = HeartbeatTo("a", "b");
        var second = Message.AddTable("b", TableSpans.WholeTable(1), isSecondary: true, Checkpoint.At(5));

        Assert.Equal(2, owner.Send([first, second]));

        var received = agent.Receive();
        Assert.Equal(2, received.Count);
        Assert.Same(first, received[0]);
        Assert.Same(second, received[1]);
        Assert.Empty(agent.Receive());
        Assert.Equal(2, transport.Counters.Delivered);
        Assert.Equal(2, transport.Counters.Received);
    }

    [Fact]
    public void Send_AgentToScheduler_ReachesOnlyTheSchedulerRoleOfTheSameChangefeed()
    {
        var transport = new InProcessTransport();
        using var agentA = transport.Open("a", Feed, TransportRole.Agent);
        using var ownerA = transport.Open("a", Feed, TransportRole.Scheduler);
        using var otherFeed = transport.Open("a", "other", TransportRole.Scheduler);
        using var agentB = transport.Open("b", Feed, TransportRole.Agent);

        Assert.Equal(1, agentB.Send([Response("b", "a")]));

        Assert.Single(ownerA.Receive());
        Assert.Empty(agentA.Receive());
        Assert.Empty(otherFeed.Receive());
    }

    [Fact]
    public void Send_ToUnknownPeer_RefusesAndCountsThatMessageButDeliversTheRestOfTheBatch()
    {
        var transport = new InProcessTransport();
        using var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        using var agent = transport.Open("b", Feed, TransportRole.Agent);

        int accepted = owner.Send([HeartbeatTo("a", "ghost"), HeartbeatTo("a", "b"), HeartbeatTo("a", CaptureId.None), HeartbeatTo("a", "b")]);

        Assert.Equal(2, accepted);
        Assert.Equal(2, agent.Receive().Count);
        Assert.Equal(2, transport.Counters.RefusedUnknownPeer);
        Assert.Equal(2, ((IEndpointCounters)owner).Counters.RefusedUnknownPeer);
    }

    [Fact]
    public void Send_WhenInboxFull_RefusesTheOverflowOnlyAndCountsIt()
    {
        var transport = new InProcessTransport(new InProcessTransportOptions { InboxCapacity = 3 });
        using var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        using var agentB = transport.Open("b", Feed, TransportRole.Agent);
        using var agentC = transport.Open("c", Feed, TransportRole.Agent);

        var batch = new[] { HeartbeatTo("a", "b"), HeartbeatTo("a", "b"), HeartbeatTo("a", "b"), HeartbeatTo("a", "b"), HeartbeatTo("a", "c"), HeartbeatTo("a", "b") };
        Assert.Equal(4, owner.Send(batch));

        Assert.Equal(3, agentB.Receive().Count);
        Assert.Single(agentC.Receive());
        Assert.Equal(2, transport.Counters.RefusedInboxFull);

        // Receiving made room again.
        Assert.Equal(1, owner.Send([HeartbeatTo("a", "b")]));
        Assert.Single(agentB.Receive());
    }

    [Fact]
    public void Send_ToClosedEndpoint_IsRefusedNotThrown()
    {
        var transport = new InProcessTransport();
        using var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        var agent = transport.Open("b", Feed, TransportRole.Agent);
        agent.Dispose();

        Assert.Equal(0, owner.Send([HeartbeatTo("a", "b")]));
        Assert.Equal(1, transport.Counters.RefusedUnknownPeer);
        Assert.False(transport.IsOpen("b", Feed, TransportRole.Agent));
    }

    [Fact]
    public void Send_FromClosedEndpoint_RefusesEverythingAndCounts()
    {
        var transport = new InProcessTransport();
        var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        using var agent = transport.Open("b", Feed, TransportRole.Agent);
        owner.Dispose();

        Assert.Equal(0, owner.Send([HeartbeatTo("a", "b"), HeartbeatTo("a", "b")]));
        Assert.Equal(2, transport.Counters.RefusedSenderClosed);
        Assert.Empty(agent.Receive());
    }

    [Fact]
    public void CloseAll_ClosesEveryEndpointOfTheCaptureAndDropsItsInbox()
    {
        var transport = new InProcessTransport();
        using var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        var agent = transport.Open("b", Feed, TransportRole.Agent);
        var otherRole = transport.Open("b", Feed, TransportRole.Scheduler);
        owner.Send([HeartbeatTo("a", "b")]);

        Assert.Equal(2, transport.CloseAll("b"));

        Assert.Empty(agent.Receive());
        Assert.False(transport.IsOpen("b", Feed, TransportRole.Scheduler));

        // The same capture can open again (a restarted capture).
        using var reopened = transport.Open("b", Feed, TransportRole.Agent);
        Assert.Equal(1, owner.Send([HeartbeatTo("a", "b")]));
        otherRole.Dispose();
    }

    [Fact]
    public void Open_Twice_Throws()
    {
        var transport = new InProcessTransport();
        using var first = transport.Open("a", Feed, TransportRole.Agent);

        Assert.Throws<InvalidOperationException>(() => transport.Open("a", Feed, TransportRole.Agent));
    }

    [Fact]
    public void Filter_ReturningFalse_LosesTheMessageAndCountsIt()
    {
        var transport = new InProcessTransport { Filter = m => m.To != "b" };
        using var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        using var agentB = transport.Open("b", Feed, TransportRole.Agent);
        using var agentC = transport.Open("c", Feed, TransportRole.Agent);

        Assert.Equal(1, owner.Send([HeartbeatTo("a", "b"), HeartbeatTo("a", "c")]));
        Assert.Empty(agentB.Receive());
        Assert.Single(agentC.Receive());
        Assert.Equal(1, transport.Counters.DroppedByFilter);
    }

    [Fact]
    public void MessagesArrived_FiresWhenAnEmptyInboxReceives()
    {
        var transport = new InProcessTransport();
        using var owner = transport.Open("a", Feed, TransportRole.Scheduler);
        using var agent = transport.Open("b", Feed, TransportRole.Agent);
        int signals = 0;
        agent.MessagesArrived += () => signals++;

        owner.Send([HeartbeatTo("a", "b"), HeartbeatTo("a", "b")]);
        Assert.Equal(1, signals);
        agent.Receive();
        owner.Send([HeartbeatTo("a", "b")]);
        Assert.Equal(2, signals);
    }

    [Fact]
    public void Options_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InProcessTransport(new InProcessTransportOptions { InboxCapacity = 0 }));
        Assert.Equal(65_536, new InProcessTransport().Options.InboxCapacity);
    }

    [Fact]
    public async Task Send_FromManyThreads_CountsEveryMessageExactlyOnce()
    {
        var transport = new InProcessTransport(new InProcessTransportOptions { InboxCapacity = 1_000 });
        using var agent = transport.Open("z", Feed, TransportRole.Scheduler);
        var senders = Enumerable.Range(0, 4).Select(i => transport.Open($"s{i}", Feed, TransportRole.Agent)).ToList();
        var received = 0;
        var tasks = senders.Select(s => Task.Run(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                s.Send([Response("s", "z")]);
            }
        })).ToList();
        while (!tasks.All(t => t.IsCompleted))
        {
            received += agent.Receive().Count;
            await Task.Yield();
        }

        await Task.WhenAll(tasks);
        received += agent.Receive().Count;
        var counters = transport.Counters;
        Assert.Equal(2_000, counters.Delivered + counters.RefusedInboxFull);
        Assert.Equal(counters.Delivered, received);
    }
}

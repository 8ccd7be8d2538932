namespace Capstan.Transport.Grpc.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc.Tests.Support;

[Trait("Category", "Integration")]
public sealed class DeliveryTests
{
    private static readonly CaptureId[] Captures = ["a", "b", "c"];
    private static readonly ChangefeedId[] Changefeeds = ["default/cf-1", "default/cf-2"];

    [Fact(DisplayName = "Three captures, two changefeeds, both roles: every message arrives at the right endpoint, unchanged")]
    public async Task ThreeCaptures_TwoChangefeeds_BothRoles_AllDelivered()
    {
        var book = new AddressBook();
        var nodes = new List<CaptureNode>();
        var inboxes = new Dictionary<(CaptureId, ChangefeedId, TransportRole), Inbox>();
        try
        {
            foreach (var id in Captures)
            {
                var node = CaptureNode.Create(id, book);
                foreach (var changefeed in Changefeeds)
                {
                    inboxes[(id, changefeed, TransportRole.Agent)] = node.OpenInbox(changefeed, TransportRole.Agent);
                    inboxes[(id, changefeed, TransportRole.Scheduler)] = node.OpenInbox(changefeed, TransportRole.Scheduler);
                }

                await node.StartAsync();
                nodes.Add(node);
            }

            // Every coordinator endpoint heartbeats every capture (itself included); every agent endpoint answers every capture.
            var expected = new Dictionary<(CaptureId, ChangefeedId, TransportRole), List<Message>>();
            foreach (var key in inboxes.Keys)
            {
                expected[key] = [];
            }

            long table = 1;
            foreach (var ((from, changefeed, role), inbox) in inboxes)
            {
                var batch = new List<Message>();
                foreach (var to in Captures)
                {
                    var message = role == TransportRole.Scheduler
                        ? TestMessages.Heartbeat(from, to, table++)
                        : TestMessages.Response(from, to, table++);
                    batch.Add(message);
                    var peerRole = role == TransportRole.Scheduler ? TransportRole.Agent : TransportRole.Scheduler;
                    expected[(to, changefeed, peerRole)].Add(message);
                }

                Assert.Equal(batch.Count, inbox.Endpoint.Send(batch));
            }

            foreach (var (key, inbox) in inboxes)
            {
                await inbox.WaitForAsync(expected[key].Count);
            }

            foreach (var (key, inbox) in inboxes)
            {
                var received = inbox.All;
                Assert.Equal(expected[key].Count, received.Count);
                foreach (var message in expected[key])
                {
                    Assert.Contains(message, received);
                }
            }

            foreach (var node in nodes)
            {
                var counters = node.Transport.Counters;
                Assert.Equal(4, counters.SelfDelivered);     // 2 changefeeds × 2 roles, one message to itself each
                Assert.Equal(8, counters.Queued);            // the same to each of the 2 peers
                Assert.Equal(8, counters.Received);
                Assert.Equal(0, counters.RejectedMalformed + counters.RejectedUnknownEndpoint + counters.RejectedInboxFull);
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact(DisplayName = "Batching: 1,000 messages sent one by one travel in a few frames, none over the batch cap")]
    public async Task ManySends_FewFrames()
    {
        var book = new AddressBook();
        var options = new GrpcTransportOptions { BatchMaxMessages = 256 };
        await using var a = await CaptureNode.StartAsync("a", book, options);
        await using var b = CaptureNode.Create("b", book, options);
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        var coordinator = a.Open("cf", TransportRole.Scheduler);

        for (int index = 0; index < 1000; index++)
        {
            Assert.Equal(1, coordinator.Send([TestMessages.Heartbeat("a", "b", index + 1)]));
        }

        await inbox.WaitForAsync(1000);
        var sender = a.Transport.Counters;
        var peer = sender.Peer("b")!;
        Assert.Equal(1000, sender.SentMessages);
        Assert.Equal(1000, peer.SentMessages);
        Assert.InRange(sender.SentFrames, 4, 50);  // ≥ 1000/256 (the cap), far fewer than 1000
        Assert.Equal(sender.SentFrames, b.Transport.Counters.ReceivedFrames);
        await Wait.UntilAsync(() => a.Transport.Counters.AcceptedByPeers == 1000, () => $"acks: {a.Transport.Counters}");

        // In order within a changefeed and role.
        var spans = inbox.All.Select(message => message.Heartbeat!.Spans[0].TableId.Value).ToArray();
        Assert.Equal(Enumerable.Range(1, 1000).Select(value => (long)value), spans);
    }

    [Fact(DisplayName = "Batching: one Send of 1,000 messages is cut into frames of at most BatchMaxMessages")]
    public async Task OneBigSend_CutAtTheBatchCap()
    {
        var book = new AddressBook();
        var options = new GrpcTransportOptions { BatchMaxMessages = 100 };
        await using var a = await CaptureNode.StartAsync("a", book, options);
        await using var b = CaptureNode.Create("b", book, options);
        var inbox = b.OpenInbox("cf", TransportRole.Scheduler);
        await b.StartAsync();
        var agent = a.Open("cf", TransportRole.Agent);

        var batch = Enumerable.Range(1, 1000).Select(index => TestMessages.Response("a", "b", index)).ToList();
        Assert.Equal(1000, agent.Send(batch));

        await inbox.WaitForAsync(1000);
        Assert.InRange(a.Transport.Counters.SentFrames, 10, 30);
    }
}

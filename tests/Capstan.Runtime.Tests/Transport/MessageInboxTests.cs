namespace Capstan.Runtime.Tests.Transport;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;

public class MessageInboxTests
{
    private static Message HeartbeatTo(CaptureId to) =>
        new() { Type = MessageType.Heartbeat, From = "owner", To = to, Heartbeat = Heartbeat.Empty };

    [Fact(DisplayName = "Inbox: TakeAll hands out what arrived in order, then an empty list, reusing its two lists")]
    public void TakeAll_HandsOutArrivalsInOrderAndSwapsBuffers()
    {
        var inbox = new MessageInbox(capacity: 4);
        var first = HeartbeatTo("a");
        var second = HeartbeatTo("b");
        Assert.Equal(InboxResult.Accepted, inbox.TryAdd(first));
        Assert.Equal(InboxResult.Accepted, inbox.TryAdd(second));

        var taken = inbox.TakeAll();
        Assert.Equal([first, second], taken);
        var empty = inbox.TakeAll();
        Assert.Empty(empty);
        Assert.NotSame(taken, empty);

        inbox.TryAdd(first);
        Assert.Same(taken, inbox.TakeAll()); // double-buffered: no new list per receive
    }

    [Fact(DisplayName = "Inbox: beyond its capacity messages are refused as Full; a range takes what fits, in order")]
    public void TryAdd_BeyondCapacity_IsRefused()
    {
        var inbox = new MessageInbox(capacity: 3);
        var messages = new List<Message> { HeartbeatTo("a"), HeartbeatTo("b") };
        Assert.Equal(2, inbox.TryAddRange(messages));
        Assert.Equal(1, inbox.TryAddRange([HeartbeatTo("c"), HeartbeatTo("d")]));
        Assert.Equal(InboxResult.Full, inbox.TryAdd(HeartbeatTo("e")));

        Assert.Equal(["a", "b", "c"], inbox.TakeAll().Select(message => message.To.Value));
        Assert.Equal(InboxResult.Accepted, inbox.TryAdd(HeartbeatTo("f")));
    }

    [Fact(DisplayName = "Inbox: the arrival callback runs only when a message lands in an empty inbox")]
    public void Arrived_RunsOnEmptyToNonEmptyOnly()
    {
        int arrivals = 0;
        var inbox = new MessageInbox(capacity: 10, () => arrivals++);

        inbox.TryAdd(HeartbeatTo("a"));
        inbox.TryAdd(HeartbeatTo("b"));
        inbox.TryAddRange([HeartbeatTo("c")]);
        Assert.Equal(1, arrivals);

        inbox.TakeAll();
        inbox.TryAddRange([]);
        Assert.Equal(1, arrivals); // nothing landed
        inbox.TryAddRange([HeartbeatTo("d"), HeartbeatTo("e")]);
        Assert.Equal(2, arrivals);
    }

    [Fact(DisplayName = "Inbox: after Close it drops what it held and refuses everything; a second Close reports false")]
    public void Close_DropsAndRefuses()
    {
        var inbox = new MessageInbox(capacity: 10);
        inbox.TryAdd(HeartbeatTo("a"));

        Assert.True(inbox.Close());

        Assert.True(inbox.IsClosed);
        Assert.False(inbox.Close());
        Assert.Empty(inbox.TakeAll());
        Assert.Equal(InboxResult.Closed, inbox.TryAdd(HeartbeatTo("b")));
        Assert.Equal(-1, inbox.TryAddRange([HeartbeatTo("c")]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageInbox(capacity: 0));
    }
}

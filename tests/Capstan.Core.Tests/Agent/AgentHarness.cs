namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Agent = Capstan.Core.Agent.Agent;

/// <summary>
/// One agent with the §12 mock executor, fed messages the way a host would: each
/// <see cref="Tick"/> hands it an inbox and returns what it sent. Invariants are checked after every tick.
/// </summary>
internal sealed class AgentHarness
{
    public static readonly CaptureId AgentCapture = "agent-1";
    public static readonly CaptureId OwnerCapture = "owner-1";
    public static readonly ProcessorEpoch AgentEpoch = new("agent-epoch-1");
    public static readonly ChangefeedEpoch FeedEpoch = new(1);
    public static readonly OwnerRevision OwnerRevision1 = new(1);
    public const string AgentVersion = "agent-version-1";
    public const string OwnerVersion = "owner-version-1";

    public AgentHarness(OwnerInfo? owner = null, LivenessFlag? liveness = null, MockTableExecutor? executor = null)
    {
        Executor = executor ?? new MockTableExecutor();
        Liveness = liveness ?? new LivenessFlag();
        Agent = new Agent(Identity, Executor, Liveness, owner ?? KnownOwner);
    }

    public static AgentIdentity Identity => new(AgentCapture, "changefeed-1", AgentEpoch, FeedEpoch, AgentVersion);

    public static OwnerInfo KnownOwner => new(OwnerCapture, OwnerRevision1, OwnerVersion);

    public MockTableExecutor Executor { get; }

    public LivenessFlag Liveness { get; }

    public Agent Agent { get; }

    public AgentTickResult LastResult { get; private set; }

    public static Span SpanOf(long table) => TableSpans.WholeTable(table);

    /// <summary>Runs one tick with these messages; returns the outbox.</summary>
    public List<Message> Tick(params Message[] inbox)
    {
        var outbox = new List<Message>();
        LastResult = Agent.Tick(inbox, outbox);
        Agent.AssertInvariants();
        return outbox;
    }

    /// <summary>The header of a message from the known owner to this agent.</summary>
    public static Header OwnerHeader(long revision = 1, ProcessorEpoch? epoch = null, ulong changefeedEpoch = 1) =>
        new(OwnerVersion, new OwnerRevision(revision), epoch ?? AgentEpoch, new ChangefeedEpoch(changefeedEpoch));

    public static Message Heartbeat(params Span[] spans) => Heartbeat(new Heartbeat { Spans = spans });

    public static Message Heartbeat(Heartbeat heartbeat) => new()
    {
        Header = OwnerHeader(),
        Type = MessageType.Heartbeat,
        From = OwnerCapture,
        To = AgentCapture,
        Heartbeat = heartbeat,
    };

    public static Message AddTable(Span span, bool isSecondary, Checkpoint checkpoint = default) =>
        Message.AddTable(AgentCapture, span, isSecondary, checkpoint) with { Header = OwnerHeader(), From = OwnerCapture };

    public static Message Prepare(Span span, Checkpoint checkpoint = default) => AddTable(span, isSecondary: true, checkpoint);

    public static Message Commit(Span span, Checkpoint checkpoint = default) => AddTable(span, isSecondary: false, checkpoint);

    public static Message RemoveTable(Span span) =>
        Message.RemoveTable(AgentCapture, span) with { Header = OwnerHeader(), From = OwnerCapture };

    /// <summary>The same message with another owner revision (and sender).</summary>
    public static Message FromOwner(Message message, long revision, CaptureId? from = null) =>
        message with { Header = message.Header with { OwnerRevision = new OwnerRevision(revision) }, From = from ?? message.From };

    public static TableStatus AddStatus(Message message)
    {
        Assert.Equal(MessageType.DispatchTableResponse, message.Type);
        Assert.NotNull(message.DispatchTableResponse!.AddTable);
        return message.DispatchTableResponse.AddTable!.Status;
    }

    public static TableStatus RemoveStatus(Message message)
    {
        Assert.Equal(MessageType.DispatchTableResponse, message.Type);
        Assert.NotNull(message.DispatchTableResponse!.RemoveTable);
        return message.DispatchTableResponse.RemoveTable!.Status;
    }

    public static HeartbeatResponse HeartbeatResponseOf(Message message)
    {
        Assert.Equal(MessageType.HeartbeatResponse, message.Type);
        return message.HeartbeatResponse!;
    }
}

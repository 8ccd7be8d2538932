namespace Capstan.Runtime.Membership;

using Capstan.Core.Member;
using Capstan.Core.Model;

/// <summary>
/// Cluster membership: which captures are alive. A capture registers with a session (an etcd
/// lease in real clusters); when the session ends — the capture stopped, crashed, or was cut off
/// for longer than the TTL — it disappears from <see cref="AliveCaptures"/>.
/// Implementations: <c>InProcessMembership</c> (embedded default) and <c>EtcdMembership</c>.
/// </summary>
public interface IMembership : IAsyncDisposable
{
    /// <summary>Registers a capture and keeps its session alive until the session is disposed or lost.</summary>
    Task<ICaptureSession> RegisterAsync(CaptureInfo capture, CancellationToken cancellationToken);

    /// <summary>The alive captures as last observed (kept current by a watch); never blocks.</summary>
    IReadOnlyDictionary<CaptureId, CaptureInfo> AliveCaptures { get; }

    /// <summary>Raised (on any thread) after <see cref="AliveCaptures"/> changed.</summary>
    event Action? CapturesChanged;
}

/// <summary>One capture's registration. Disposing it ends the session (the capture leaves).</summary>
public interface ICaptureSession : IAsyncDisposable
{
    /// <summary>The registered capture.</summary>
    CaptureInfo Capture { get; }

    /// <summary>
    /// Cancelled when the session is lost (lease expired, e.g. after a partition longer than the
    /// TTL, or the registration was taken over by a newer registration of the same capture).
    /// A capture whose session is lost must stop sinking its tables (self-fencing) and rejoin as a
    /// new incarnation. Also cancelled once the session is disposed (the session is over).
    /// </summary>
    CancellationToken Lost { get; }
}

/// <summary>Owner election. The election revision is the owner revision that fences stale owners.</summary>
public interface IOwnerElection
{
    /// <summary>
    /// Campaigns with the given session; completes when this capture is the owner. Campaigners win
    /// in the order they campaigned. Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled or the session is lost before winning
    /// (the campaign is then withdrawn). One campaign per session at a time.
    /// </summary>
    Task<IOwnerLease> CampaignAsync(ICaptureSession session, CancellationToken cancellationToken);

    /// <summary>The current owner and its revision, or null when there is none.</summary>
    Task<OwnerInfoRecord?> GetOwnerAsync(CancellationToken cancellationToken);
}

/// <summary>The current owner as seen by any capture.</summary>
public sealed record OwnerInfoRecord(CaptureId Capture, OwnerRevision Revision);

/// <summary>Proof of ownership for one owner term.</summary>
public interface IOwnerLease : IAsyncDisposable
{
    /// <summary>The owner capture.</summary>
    CaptureId Owner { get; }

    /// <summary>The owner revision of this term (strictly greater than every earlier term's).</summary>
    OwnerRevision Revision { get; }

    /// <summary>Cancelled when this term ends (resigned, session lost, or deposed).</summary>
    CancellationToken Lost { get; }

    /// <summary>Gives up ownership; another capture can then win.</summary>
    Task ResignAsync(CancellationToken cancellationToken);
}

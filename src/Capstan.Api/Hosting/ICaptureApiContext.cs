namespace Capstan.Api.Hosting;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Workload;

/// <summary>
/// One changefeed's scheduler on the owner, as the API uses it: reads and commands run inside
/// the owner host's loop (posted to its inbox and awaited); the API never touches the core from
/// a request thread.
/// </summary>
public interface IChangefeedScheduler
{
    /// <summary>The changefeed.</summary>
    ChangefeedId Changefeed { get; }

    /// <summary>The owner term this scheduler runs in.</summary>
    OwnerRevision Revision { get; }

    /// <summary>Runs <paramref name="work"/> on the coordinator inside the owner loop and returns its result.</summary>
    /// <exception cref="OwnerUnavailableApiException">The owner stepped down or its inbox is full.</exception>
    Task<T> RunAsync<T>(Func<Coordinator, T> work, CancellationToken cancellationToken);
}

/// <summary>A command could not reach the coordinator (owner stepped down, inbox full); retry.</summary>
public sealed class OwnerUnavailableApiException : Exception
{
    /// <summary>Creates the error.</summary>
    public OwnerUnavailableApiException(string message) : base(message)
    {
    }

    /// <summary>Creates the error with its cause.</summary>
    public OwnerUnavailableApiException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>
/// What the API needs from the process it runs in: the cluster's edges (membership, election,
/// metadata, upstream clock), the captures that run in this process and, when one of them is the
/// owner, its changefeed schedulers. Implementations: <see cref="CaptureNodeApiContext"/> (one capture
/// per process, <c>capstan server</c>) and <see cref="EmbeddedClusterApiContext"/> (every capture of an
/// embedded cluster, <c>capstan demo</c>).
/// </summary>
public interface ICaptureApiContext
{
    /// <summary>The capture serving this API, or <see cref="CaptureId.None"/> when it serves a whole embedded cluster.</summary>
    CaptureId Self { get; }

    /// <summary>Binary version.</summary>
    string Version { get; }

    /// <summary>Changefeeds and checkpoints.</summary>
    IMetadataStore Metadata { get; }

    /// <summary>Alive captures.</summary>
    IMembership Membership { get; }

    /// <summary>The owner.</summary>
    IOwnerElection Election { get; }

    /// <summary>Upstream time (start ts of new changefeeds, lag).</summary>
    UpstreamClock Clock { get; }

    /// <summary>Owner loop period (to turn coordinator ticks into approximate times).</summary>
    TimeSpan OwnerTickInterval { get; }

    /// <summary>True when <paramref name="capture"/> runs in this process (requests for it are handled here).</summary>
    bool IsLocal(CaptureId capture);

    /// <summary>The liveness of a capture running in this process, or null.</summary>
    Liveness? LocalLiveness(CaptureId capture);

    /// <summary>The schedulers of <paramref name="owner"/> when it runs in this process (else empty), in changefeed order.</summary>
    IReadOnlyList<IChangefeedScheduler> LocalSchedulers(CaptureId owner);

    /// <summary>Makes a local owner give up its term; false when <paramref name="owner"/> is not a local owner.</summary>
    Task<bool> ResignOwnerAsync(CaptureId owner, CancellationToken cancellationToken);

    /// <summary>The base URL of a capture's HTTP API, for forwarding to the owner; null when unknown.</summary>
    Uri? ApiAddressOf(CaptureId capture);

    /// <summary>
    /// Counters of the message transport in this process by result (delivered, received, refused_…),
    /// or null when it has none to report. See <see cref="TransportReadings"/>.
    /// </summary>
    IReadOnlyList<KeyValuePair<string, long>>? TransportCounters { get; }
}

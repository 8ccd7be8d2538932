namespace Capstan.Api.Hosting;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Workload;

/// <summary>
/// The API of captures running in this process over shared services: one capture for a server
/// process (<c>capstan server</c>), or a subset of an embedded cluster's captures (tests that give each
/// capture its own HTTP endpoint). Requests for an owner running elsewhere are forwarded using
/// <paramref name="apiAddressOf"/>.
/// </summary>
/// <param name="services">The edges the captures run on.</param>
/// <param name="captures">The captures of this process (read on every request: may change).</param>
/// <param name="apiAddressOf">A capture's API base URL, or null when unknown.</param>
/// <param name="transportCounters">Reads the transport counters (<see cref="TransportReadings"/>), or null.</param>
public sealed class CaptureNodeApiContext(
    CaptureServices services,
    Func<IReadOnlyList<CaptureNode>> captures,
    Func<CaptureId, Uri?> apiAddressOf,
    Func<IReadOnlyList<KeyValuePair<string, long>>?>? transportCounters = null) : ICaptureApiContext
{
    /// <summary>The API of one capture.</summary>
    public CaptureNodeApiContext(CaptureNode capture, CaptureServices services, Func<CaptureId, Uri?> apiAddressOf, Func<IReadOnlyList<KeyValuePair<string, long>>?>? transportCounters = null)
        : this(services, () => [capture], apiAddressOf, transportCounters)
    {
        Self = capture.Id;
    }

    /// <inheritdoc/>
    public CaptureId Self { get; } = CaptureId.None;

    /// <inheritdoc/>
    public string Version => services.Options.Version;

    /// <inheritdoc/>
    public IMetadataStore Metadata => services.Metadata;

    /// <inheritdoc/>
    public IMembership Membership => services.Membership;

    /// <inheritdoc/>
    public IOwnerElection Election => services.Election;

    /// <inheritdoc/>
    public UpstreamClock Clock => services.Clock;

    /// <inheritdoc/>
    public TimeSpan OwnerTickInterval => services.Options.OwnerTickInterval;

    /// <inheritdoc/>
    public IReadOnlyList<KeyValuePair<string, long>>? TransportCounters => transportCounters?.Invoke();

    /// <inheritdoc/>
    public bool IsLocal(CaptureId capture) => Find(capture) is not null;

    /// <inheritdoc/>
    public Liveness? LocalLiveness(CaptureId capture) => Find(capture)?.Liveness.Value;

    /// <inheritdoc/>
    public IReadOnlyList<IChangefeedScheduler> LocalSchedulers(CaptureId owner)
    {
        var node = Find(owner);
        if (node is null)
        {
            return [];
        }

        var result = new List<IChangefeedScheduler>();
        foreach (var host in node.Owners)
        {
            if (!host.Deposed)
            {
                result.Add(new OwnerHostScheduler(host));
            }
        }

        return result;
    }

    /// <inheritdoc/>
    public Task<bool> ResignOwnerAsync(CaptureId owner, CancellationToken cancellationToken) =>
        Find(owner) is { } node ? node.ResignOwnerAsync().WaitAsync(cancellationToken) : Task.FromResult(false);

    /// <inheritdoc/>
    public Uri? ApiAddressOf(CaptureId capture) => apiAddressOf(capture);

    private CaptureNode? Find(CaptureId capture)
    {
        foreach (var node in captures())
        {
            if (node.Id == capture && !node.IsTerminated)
            {
                return node;
            }
        }

        return null;
    }
}

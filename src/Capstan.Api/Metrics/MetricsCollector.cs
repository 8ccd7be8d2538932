namespace Capstan.Api.Metrics;

using Capstan.Api.Hosting;
using Capstan.Runtime.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

/// <summary>
/// Keeps the latest <see cref="SchedulerMetricsReading"/> of every changefeed the local owner
/// schedules. Refreshed before every scrape (so /metrics is current) and every
/// <see cref="CapstanApiOptions.MetricsInterval"/>, when the lag histograms also get an observation
/// (TiCDC observes them every 10 s). Readings are taken inside the owner loops.
/// </summary>
public sealed class MetricsCollector : BackgroundService
{
    private readonly ICaptureApiContext _api;
    private readonly CapstanApiOptions _options;
    private readonly IServiceProvider _services;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile IReadOnlyList<SchedulerMetricsReading> _readings = [];
    private volatile OwnerInfoRecord? _owner;

    /// <summary>Creates the collector.</summary>
    public MetricsCollector(ICaptureApiContext api, IOptions<CapstanApiOptions> options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        _api = api;
        _options = options.Value;
        _services = services;
    }

    /// <summary>The latest readings, one per scheduled changefeed, in changefeed order.</summary>
    internal IReadOnlyList<SchedulerMetricsReading> Readings => _readings;

    /// <summary>The owner seen at the last refresh.</summary>
    internal OwnerInfoRecord? Owner => _owner;

    /// <summary>Reads every local scheduler now (bounded by the command timeout).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            OwnerInfoRecord? owner;
            try
            {
                owner = await _api.Election.GetOwnerAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return; // election unreachable: keep serving the last readings
            }

            _owner = owner;
            var readings = new List<SchedulerMetricsReading>();
            if (owner is not null)
            {
                foreach (var scheduler in _api.LocalSchedulers(owner.Capture))
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(_options.CommandTimeout);
                    try
                    {
                        readings.Add(await scheduler.RunAsync(SchedulerMetricsReading.Take, timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false));
                    }
                    catch (Exception error) when (error is OwnerUnavailableApiException || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                    {
                        // A scheduler that stepped down or is stuck reports nothing this time.
                    }
                }
            }

            _readings = readings;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.MetricsInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAsync(stoppingToken).ConfigureAwait(false);
                    _services.GetRequiredService<CapstanMetrics>().ObserveLags(_readings, _api.Clock.NowMilliseconds);
                }
                catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The cluster store may be unreachable for a while (etcd restarting): try again next
                    // interval. A background service that throws stops the whole host (and the capture).
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }
}

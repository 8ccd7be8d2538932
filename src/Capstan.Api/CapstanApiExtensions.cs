namespace Capstan.Api;

using Capstan.Api.Activity;
using Capstan.Api.Contracts;
using Capstan.Api.Dashboard;
using Capstan.Api.Endpoints;
using Capstan.Api.Hosting;
using Capstan.Api.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

/// <summary>Registers and maps Capstan's operator surface: /api/v2, /openapi/v1.json, /metrics and the dashboard.</summary>
public static class CapstanApiExtensions
{
    /// <summary>The OpenAPI document's URL.</summary>
    public const string OpenApiPath = "/openapi/v1.json";

    /// <summary>
    /// Adds the API's services for <paramref name="context"/>: options, JSON conventions, OpenAPI,
    /// the activity monitor, the metrics collector and the OpenTelemetry meter provider with the
    /// Prometheus exporter.
    /// </summary>
    public static IServiceCollection AddCapstanApi(this IServiceCollection services, ICaptureApiContext context, Action<CapstanApiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(context);
        var options = new CapstanApiOptions();
        configure?.Invoke(options);
        options.Validate();
        services.AddSingleton<IOptions<CapstanApiOptions>>(Options.Create(options));
        services.AddSingleton(context);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ActivityMonitor>();
        services.AddHostedService(provider => provider.GetRequiredService<ActivityMonitor>());
        services.AddSingleton<MetricsCollector>();
        services.AddHostedService(provider => provider.GetRequiredService<MetricsCollector>());
        services.AddSingleton<CapstanMetrics>();
        services.AddHttpClient(OwnerOnlyFilter.ClientName);
        services.ConfigureHttpJsonOptions(json => CapstanJson.Configure(json.SerializerOptions));
        services.AddProblemDetails();
        services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Capstan API";
            document.Info.Version = "v2";
            document.Info.Description = "Operate a Capstan cluster: captures, owner, changefeeds, tables, move/rebalance/drain, plan and explain. Errors are RFC 7807 problem details.";
            return Task.CompletedTask;
        }));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(options.MeterName)
            .AddView("capstan_scheduler_slow_table_stage_checkpoint_ts_lag_histogram", new ExplicitBucketHistogramConfiguration { Boundaries = CapstanMetrics.LagBuckets })
            .AddView("capstan_scheduler_slow_table_stage_resolved_ts_lag_histogram", new ExplicitBucketHistogramConfiguration { Boundaries = CapstanMetrics.LagBuckets })
            .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>
    /// Maps /api/v2 (see docs/OPERATIONS.md), the OpenAPI document at <see cref="OpenApiPath"/>,
    /// /metrics (refreshed from the owner loops before each scrape) and the dashboard at /.
    /// </summary>
    public static IEndpointRouteBuilder MapCapstanApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<CapstanApiOptions>>().Value;
        endpoints.ServiceProvider.GetRequiredService<CapstanMetrics>();
        endpoints.MapOpenApi(OpenApiPath).ExcludeFromDescription();
        MapMetrics(endpoints, options);
        ApiRoutes.Map(endpoints);
        if (options.EnableDashboard)
        {
            endpoints.MapGet("/", (HttpContext http) => DashboardAssets.Serve(http, "index.html")).ExcludeFromDescription();
            endpoints.MapGet("/dashboard/{name}", (HttpContext http, string name) => DashboardAssets.Serve(http, name)).ExcludeFromDescription();
        }

        return endpoints;
    }

    private static void MapMetrics(IEndpointRouteBuilder endpoints, CapstanApiOptions options)
    {
        var scrape = endpoints.CreateApplicationBuilder();
        scrape.Use(async (http, next) =>
        {
            if (options.AuthEnabled && options.ProtectMetrics && !BearerTokenFilter.IsAuthorized(http, options.Token!))
            {
                await BearerTokenFilter.Challenge(http).ExecuteAsync(http).ConfigureAwait(false);
                return;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            timeout.CancelAfter(options.CommandTimeout);
            try
            {
                await http.RequestServices.GetRequiredService<MetricsCollector>().RefreshAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception) when (!http.RequestAborted.IsCancellationRequested)
            {
                // Serve what the last collection saw (the owner loop is slow, or the cluster store is unreachable).
            }

            await next(http).ConfigureAwait(false);
        });
        scrape.UseOpenTelemetryPrometheusScrapingEndpoint(_ => true);
        endpoints.Map("/metrics", scrape.Build()).WithDisplayName("metrics").ExcludeFromDescription();
    }
}

namespace Capstan.Api.Endpoints;

using Capstan.Api.Activity;
using Capstan.Api.Hosting;
using Capstan.Api.Validation;
using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Runtime.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

/// <summary>What one request's handler works with: the context, the options and, on owner-only routes, the local owner.</summary>
internal sealed class RequestScope
{
    private RequestScope(HttpContext http)
    {
        Http = http;
        Api = http.RequestServices.GetRequiredService<ICaptureApiContext>();
        Options = http.RequestServices.GetRequiredService<IOptions<CapstanApiOptions>>().Value;
        Activity = http.RequestServices.GetRequiredService<ActivityMonitor>();
    }

    public HttpContext Http { get; }

    public ICaptureApiContext Api { get; }

    public CapstanApiOptions Options { get; }

    public ActivityMonitor Activity { get; }

    public CancellationToken Aborted => Http.RequestAborted;

    public static RequestScope Of(HttpContext http) => new(http);

    /// <summary>The owner's schedulers (owner-only routes).</summary>
    public IReadOnlyList<IChangefeedScheduler> Schedulers => Api.LocalSchedulers(LocalOwner.From(Http).Owner);

    /// <summary>The owner (owner-only routes).</summary>
    public LocalOwner Owner => LocalOwner.From(Http);

    /// <summary>Validates a changefeed id and loads its definition; a problem when invalid or absent.</summary>
    public async Task<(ChangefeedInfo? Info, IResult? Problem)> ChangefeedAsync(string? id)
    {
        if (ApiValidation.CheckId(id, "changefeed_id") is { } invalid)
        {
            return (null, Problems.BadRequest(invalid));
        }

        var info = await Api.Metadata.GetChangefeedAsync(id!, Aborted).ConfigureAwait(false);
        return info is null
            ? (null, Problems.BadRequest($"changefeed '{id}' does not exist; list changefeeds with GET /api/v2/changefeeds", "changefeed-not-found"))
            : (info, null);
    }

    /// <summary>The owner's scheduler of a changefeed, or a 503 when it was not created yet.</summary>
    public (IChangefeedScheduler? Scheduler, IResult? Problem) SchedulerOf(ChangefeedId changefeed)
    {
        foreach (var scheduler in Schedulers)
        {
            if (scheduler.Changefeed == changefeed)
            {
                return (scheduler, null);
            }
        }

        return (null, Problems.Unavailable($"the owner has not started scheduling changefeed '{changefeed}' yet; retry in a moment"));
    }

    /// <summary>Runs work in a scheduler's loop with the command timeout; transient failures become 503 problems.</summary>
    public async Task<(T? Value, IResult? Problem)> RunAsync<T>(IChangefeedScheduler scheduler, Func<Coordinator, T> work)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Aborted);
        timeout.CancelAfter(Options.CommandTimeout);
        try
        {
            var value = await scheduler.RunAsync(work, timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
            return (value, null);
        }
        catch (OwnerUnavailableApiException error)
        {
            return (default, Problems.Unavailable($"{error.Message}; retry (the owner may be changing)"));
        }
        catch (OperationCanceledException) when (!Aborted.IsCancellationRequested)
        {
            return (default, Problems.Unavailable($"the owner did not answer within {Options.CommandTimeout.TotalSeconds:0.#} s; retry"));
        }
    }
}

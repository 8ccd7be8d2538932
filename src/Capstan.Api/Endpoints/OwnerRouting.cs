namespace Capstan.Api.Endpoints;

using System.Globalization;
using System.Net.Http.Headers;
using Capstan.Api.Hosting;
using Capstan.Core.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

/// <summary>The owner a request is handled by, stored in <see cref="HttpContext.Items"/> by <see cref="OwnerOnlyFilter"/>.</summary>
/// <param name="Owner">The owner capture (local to this process).</param>
/// <param name="Revision">Its term.</param>
internal sealed record LocalOwner(CaptureId Owner, OwnerRevision Revision)
{
    private static readonly object Key = new();

    public static LocalOwner From(HttpContext http) =>
        http.Items.TryGetValue(Key, out var value) && value is LocalOwner owner
            ? owner
            : throw new InvalidOperationException("owner-only endpoint without OwnerOnlyFilter");

    public void Store(HttpContext http) => http.Items[Key] = this;
}

/// <summary>
/// Owner-only endpoints run where the owner is. When this process does not run the owner, the
/// request is forwarded to the owner's API (as TiCDC does, at most <see cref="CapstanApiOptions.MaxForwardHops"/>
/// hops, counted in <see cref="CapstanApiOptions.ForwardCountHeader"/>), and the owner's answer is relayed.
/// </summary>
internal sealed class OwnerOnlyFilter : IEndpointFilter
{
    /// <summary>Name of the HttpClient used to forward.</summary>
    public const string ClientName = "capstan-forward";

    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Proxy-Connection", "TE", "Trailer",
    };

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var api = services.GetRequiredService<ICaptureApiContext>();
        var options = services.GetRequiredService<IOptions<CapstanApiOptions>>().Value;
        var owner = await api.Election.GetOwnerAsync(http.RequestAborted).ConfigureAwait(false);
        if (owner is null)
        {
            return Problems.Unavailable("no owner is elected right now (an election is in progress); retry in a few seconds");
        }

        if (api.IsLocal(owner.Capture))
        {
            new LocalOwner(owner.Capture, owner.Revision).Store(http);
            return await next(context).ConfigureAwait(false);
        }

        int hops = ForwardCount(http);
        if (hops < 0)
        {
            return Problems.BadRequest($"header {CapstanApiOptions.ForwardCountHeader} must be a non-negative integer");
        }

        if (hops >= options.MaxForwardHops)
        {
            return Problems.Unavailable(
                $"the request was forwarded {hops} times without reaching the owner (last seen: '{owner.Capture}'); the owner is changing, retry");
        }

        var address = api.ApiAddressOf(owner.Capture);
        if (address is null)
        {
            return Problems.Unavailable(
                $"the owner '{owner.Capture}' is not reachable from here (its API address is unknown, or a fail-over is in progress); retry in a few seconds, or send the request to the owner's API directly");
        }

        return await ForwardAsync(http, api, options, address, hops + 1).ConfigureAwait(false);
    }

    private static int ForwardCount(HttpContext http)
    {
        var header = http.Request.Headers[CapstanApiOptions.ForwardCountHeader].ToString();
        if (header.Length == 0)
        {
            return 0;
        }

        return int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out int count) ? count : -1;
    }

    private static async Task<IResult> ForwardAsync(HttpContext http, ICaptureApiContext api, CapstanApiOptions options, Uri owner, int hops)
    {
        var request = http.Request;
        var target = new Uri(owner, request.PathBase + request.Path + request.QueryString);
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), target);
        foreach (var (name, values) in request.Headers)
        {
            if (!HopHeaders.Contains(name) && !name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
                && !name.StartsWith("X-Capstan-", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        message.Headers.TryAddWithoutValidation(CapstanApiOptions.ForwardedFromHeader, api.Self.IsNone ? "embedded" : api.Self.Value);
        message.Headers.TryAddWithoutValidation(CapstanApiOptions.ForwardCountHeader, hops.ToString(CultureInfo.InvariantCulture));
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = await BodyReader.ReadBytesAsync(http, options.MaxBodyBytes).ConfigureAwait(false);
            if (body is null)
            {
                return Problems.BadRequest($"the request body is larger than {options.MaxBodyBytes} bytes");
            }

            message.Content = new ByteArrayContent(body);
            if (request.ContentType is { } contentType && MediaTypeHeaderValue.TryParse(contentType, out var parsed))
            {
                message.Content.Headers.ContentType = parsed;
            }
        }

        var client = http.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(options.ForwardTimeout);
        try
        {
            using var response = await client.SendAsync(message, timeout.Token).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            var mediaType = response.Content.Headers.ContentType?.ToString();
            http.Response.Headers[CapstanApiOptions.ForwardCountHeader] = hops.ToString(CultureInfo.InvariantCulture);
            if (response.Headers.WwwAuthenticate.Count > 0)
            {
                http.Response.Headers.WWWAuthenticate = response.Headers.WwwAuthenticate.ToString();
            }

            return new RelayedResult((int)response.StatusCode, mediaType, bytes);
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            return Problems.BadGateway($"forwarding to the owner at {owner} failed ({error.GetType().Name}: {error.Message}); retry, or send the request to the owner directly");
        }
    }
}

/// <summary>The owner's answer, relayed as is.</summary>
internal sealed class RelayedResult(int status, string? contentType, byte[] body) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = status;
        if (contentType is not null)
        {
            httpContext.Response.ContentType = contentType;
        }

        httpContext.Response.ContentLength = body.Length;
        await httpContext.Response.Body.WriteAsync(body).ConfigureAwait(false);
    }
}

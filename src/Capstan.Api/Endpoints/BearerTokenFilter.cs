namespace Capstan.Api.Endpoints;

using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

/// <summary>
/// Optional auth: when <see cref="CapstanApiOptions.Token"/> is set, the endpoint requires
/// <c>Authorization: Bearer &lt;token&gt;</c> (401 with <c>WWW-Authenticate: Bearer</c> otherwise).
/// Reads are checked only when <see cref="CapstanApiOptions.ProtectReads"/> is set.
/// </summary>
internal sealed class BearerTokenFilter(bool mutating) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var options = http.RequestServices.GetRequiredService<IOptions<CapstanApiOptions>>().Value;
        if (options.AuthEnabled && (mutating || options.ProtectReads) && !IsAuthorized(http, options.Token!))
        {
            return Challenge(http);
        }

        return await next(context).ConfigureAwait(false);
    }

    /// <summary>True when the request carries the token.</summary>
    public static bool IsAuthorized(HttpContext http, string token)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var given = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        var expected = Encoding.UTF8.GetBytes(token);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    /// <summary>The 401 answer.</summary>
    public static IResult Challenge(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"capstan\"";
        return Problems.Unauthorized("this endpoint requires 'Authorization: Bearer <token>' with the token the server was started with (capstan cli: --token or CAPSTAN_TOKEN)");
    }
}

namespace Capstan.Transport.Grpc;

using System.Net;
using Capstan.Core.Model;
using Capstan.Runtime.Transport;
using global::Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>Hosting the gRPC transport in an ASP.NET Core application.</summary>
public static class GrpcTransportExtensions
{
    /// <summary>
    /// Registers the <see cref="GrpcTransport"/> of capture <paramref name="self"/> (also as
    /// <see cref="IMessageTransport"/>; disposed with the container) and gRPC with the transport's
    /// message-size limits for <see cref="CaptureTransportService"/>. Then map the service with
    /// <c>app.MapGrpcService&lt;CaptureTransportService&gt;()</c> or <see cref="MapCapstanGrpcTransport"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Kestrel endpoint.</b> gRPC needs HTTP/2. Without TLS the endpoint must speak <b>only</b>
    /// HTTP/2 (h2c): with Kestrel's default <c>Http1AndHttp2</c> and no TLS, Kestrel falls back to
    /// HTTP/1.1 and clients fail with <c>HTTP_1_1_REQUIRED</c>. Use
    /// <see cref="ConfigureCapstanGrpcEndpoint"/> for the transport's port and serve browsers and
    /// <c>/metrics</c> on a separate HTTP/1 port:
    /// </para>
    /// <code>
    /// builder.WebHost.ConfigureKestrel(k =&gt; {
    ///     k.ConfigureCapstanGrpcEndpoint(new IPEndPoint(IPAddress.Any, 8300), options.Tls);
    ///     k.Listen(IPAddress.Any, 8080, o =&gt; o.Protocols = HttpProtocols.Http1); // API, /metrics
    /// });
    /// builder.Services.AddCapstanGrpcTransport(self, id =&gt; membership.AliveCaptures.GetValueOrDefault(id)?.Address, options);
    /// var app = builder.Build();
    /// app.MapCapstanGrpcTransport();
    /// </code>
    /// </remarks>
    public static IServiceCollection AddCapstanGrpcTransport(
        this IServiceCollection services, CaptureId self, Func<CaptureId, string?> resolveAddress, GrpcTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(resolveAddress);
        var validated = (options ?? new GrpcTransportOptions()).Validate();
        return services.AddCapstanGrpcTransport(
            provider => new GrpcTransport(self, resolveAddress, validated, provider.GetService<ILoggerFactory>()));
    }

    /// <summary>
    /// Registers the <see cref="GrpcTransport"/> built by <paramref name="factory"/> (e.g. one whose
    /// resolver reads a membership service from the container); otherwise as the other overload.
    /// </summary>
    public static IServiceCollection AddCapstanGrpcTransport(this IServiceCollection services, Func<IServiceProvider, GrpcTransport> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        services.AddGrpc();
        services.AddOptions<GrpcServiceOptions<CaptureTransportService>>()
            .Configure<GrpcTransport>((grpc, transport) =>
            {
                grpc.MaxReceiveMessageSize = transport.Options.MaxFrameBytes;
                grpc.MaxSendMessageSize = PeerConnection.MaxAckBytes;
                grpc.EnableDetailedErrors = false;
            });
        services.AddSingleton(factory);
        services.AddSingleton<IMessageTransport>(provider => provider.GetRequiredService<GrpcTransport>());
        return services;
    }

    /// <summary>Maps <see cref="CaptureTransportService"/> (the same as <c>MapGrpcService&lt;CaptureTransportService&gt;()</c>).</summary>
    public static GrpcServiceEndpointConventionBuilder MapCapstanGrpcTransport(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<CaptureTransportService>();

    /// <summary>
    /// Adds the transport's Kestrel endpoint at <paramref name="endpoint"/>: HTTP/2 only — h2c
    /// (plaintext) when <paramref name="tls"/> is null, otherwise HTTPS with the capture's
    /// certificate and, when <see cref="TlsOptions.CaPemPath"/> is set and
    /// <see cref="TlsOptions.RequireClientCertificate"/> holds, a required client certificate that
    /// chains to that CA (mutual TLS). Port 0 picks a free port (read it from the server's addresses).
    /// </summary>
    public static void ConfigureCapstanGrpcEndpoint(this KestrelServerOptions kestrel, IPEndPoint endpoint, TlsOptions? tls = null)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(endpoint);
        var material = tls is null ? null : TlsMaterial.Load(tls);
        kestrel.Listen(endpoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (material is not null)
            {
                listen.UseHttps(material.ServerOptions());
            }
        });
    }
}

namespace Capstan.Api.Hosting;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Runtime.Hosting;

/// <summary>An <see cref="OwnerHost"/> as the API sees it: work is posted to its inbox and awaited.</summary>
internal sealed class OwnerHostScheduler(OwnerHost host) : IChangefeedScheduler
{
    public ChangefeedId Changefeed => host.Changefeed;

    public OwnerRevision Revision => host.Revision;

    public async Task<T> RunAsync<T>(Func<Coordinator, T> work, CancellationToken cancellationToken)
    {
        Task<Box<T>?> pending;
        try
        {
            pending = host.Post<Box<T>?>(coordinator => new Box<T>(work(coordinator)), null);
        }
        catch (OwnerUnavailableException error)
        {
            throw new OwnerUnavailableApiException(error.Message, error);
        }

        Box<T>? result;
        try
        {
            result = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OwnerUnavailableException error)
        {
            throw new OwnerUnavailableApiException(error.Message, error);
        }

        return result is null
            ? throw new OwnerUnavailableApiException($"the owner's command inbox for changefeed {host.Changefeed} is full")
            : result.Value;
    }

    private sealed record Box<T>(T Value);
}

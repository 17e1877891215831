using MassTransit;
using Modal.Api.Hosting;
using Modal.Contracts.Web;

namespace Modal.Api.Web;

/// <summary>A proxy token was deleted (on any replica): this replica's validator refuses it from now on.</summary>
public sealed class ProxyTokenRevokedConsumer(ProxyTokenValidator validator) : IConsumer<ProxyTokenRevoked>
{
    public Task Consume(ConsumeContext<ProxyTokenRevoked> context)
    {
        validator.Forget(context.Message.TokenId);
        return Task.CompletedTask;
    }
}

public sealed class ProxyTokenRevokedConsumerDefinition(ApiInstance instance)
    : ApiInstanceDefinition<ProxyTokenRevokedConsumer>(instance, "proxy-tokens", 4);

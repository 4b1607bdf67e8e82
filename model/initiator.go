package model

import "context"

type initiatorKey struct{}

// WithInitiator records on ctx the user who asks for an import, so that a
// backend's Start can name them as the job's initiator without a change to
// the Backend interface: the REST server sets it to the authenticated admin.
func WithInitiator(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, initiatorKey{}, u)
}

// InitiatorFrom returns the user WithInitiator recorded, if any.
func InitiatorFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(initiatorKey{}).(User)
	return u, ok
}

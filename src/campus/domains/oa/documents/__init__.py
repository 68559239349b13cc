"""发文: documents from draft to approval, number, seal and distribution; 收文 inboxes."""
